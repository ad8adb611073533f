import SupportBotData

/// English words that mean the same or nearly ("voucher" and "coupon", "decline" and "refuse", "deliver" and
/// "delivery"), from WordNet 3.0, by stem: what lets a message find an example that says the same in other words.
/// Read from `WordRelationsData` once per process, at first use.
public struct WordRelations: Sendable {
    public enum Kind: String, Sendable, Codable {
        /// The two words share a sense: "parcel", "package".
        case synonym
        /// One is made from the other: "deliver", "delivery".
        case derived = "derived form"
    }

    /// One word related to another, as the table has it.
    public struct Relation: Sendable, Equatable {
        /// The related word's stem, and the word itself (for `--explain`).
        public var stem: String
        public var word: String
        /// From 0.25 to 1: how common the shared sense is for both words.
        public var weight: Float
        public var kind: Kind
    }

    /// For each stem, its related stems (another stem each, the strongest relation of the words behind it), and
    /// the word that stem came from.
    private let byStem: [String: (word: String, relations: [Relation])]

    /// The shipped table, from `WordRelationsData`.
    public static let english = WordRelations(table: WordRelationsData.table)

    /// - Parameter table: one word per line, then pairs of a related word and its weight in hundredths with its kind
    ///   (`s` or `d`): `voucher vouch 90d coupon 33s`.
    init(table: String) {
        var byStem: [String: (word: String, relations: [Relation])] = [:]
        var stems: [Substring: String] = [:]
        func stem(_ word: Substring) -> String {
            if let known = stems[word] { return known }
            let value = PorterStemmer.stem(String(word))
            stems[word] = value
            return value
        }
        for line in table.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, fields.count % 2 == 1 else { continue }
            let word = fields[0]
            let from = stem(word)
            // Words that share a stem ("account", "accountant") don't share meanings: only the first, the most
            // common, speaks for the stem.
            guard byStem[from] == nil else { continue }
            var entry = (word: String(word), relations: [Relation]())
            var index = 1
            while index + 1 < fields.count {
                let related = fields[index], code = fields[index + 1]
                index += 2
                guard let kindLetter = code.last, let hundredths = Int(code.dropLast()) else { continue }
                let kind: Kind = kindLetter == "d" ? .derived : .synonym
                let to = stem(related)
                guard to != from else { continue }
                let weight = Float(hundredths) / 100
                if let existing = entry.relations.firstIndex(where: { $0.stem == to }) {
                    if entry.relations[existing].weight < weight {
                        entry.relations[existing] = Relation(stem: to, word: String(related), weight: weight, kind: kind)
                    }
                } else {
                    entry.relations.append(Relation(stem: to, word: String(related), weight: weight, kind: kind))
                }
            }
            entry.relations.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.stem < $1.stem) }
            byStem[from] = entry
        }
        self.byStem = byStem
    }

    /// The stems related to `stem`, strongest first, and the word the table had for `stem`.
    public func related(toStem stem: String) -> (word: String, relations: [Relation])? {
        byStem[stem]
    }

    public var stemCount: Int { byStem.count }
}
