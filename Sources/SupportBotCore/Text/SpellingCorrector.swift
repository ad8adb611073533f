/// Corrects typos against the knowledge base's own vocabulary ("packge" -> "package", "refnud" -> "refund").
///
/// Uses a symmetric-delete index: every target word and every query word are reduced by up to `maxEdits`
/// deletions, and words that share a reduced form are compared with a weighted Damerau–Levenshtein distance.
/// Ties go to the more frequent word, then the alphabetically first one, so results are deterministic.
public struct SpellingCorrector: Sendable {
    /// Words that are never corrected (every word the knowledge base uses anywhere).
    let knownWords: Set<String>
    /// Words a typo may be corrected to, with how often they occur in intent examples.
    private let targets: [String]
    private let frequency: [Int]
    private let deletes: [String: [Int32]]
    /// No target is longer than this: longer words can't be within reach, and their deletion sets grow fast.
    private let longestTarget: Int

    public static let minimumLength = 4
    public static let longWordLength = 8

    public init(targets targetCounts: [String: Int], knownWords: Set<String>) {
        let sorted = targetCounts.keys.sorted()
        self.targets = sorted
        self.frequency = sorted.map { targetCounts[$0] ?? 0 }
        self.knownWords = knownWords.union(sorted)
        self.longestTarget = sorted.map(\.count).max() ?? 0
        var deletes: [String: [Int32]] = [:]
        for (index, word) in sorted.enumerated() where word.count >= Self.minimumLength - 1 {
            BuildPacer.breathe()
            for variant in Self.deletions(of: word, edits: Self.maxEdits(forLength: word.count + 1)) {
                deletes[variant, default: []].append(Int32(index))
            }
        }
        self.deletes = deletes
    }

    /// A corrector for some of `base`'s targets (the words of fewer examples), with the same answers as one built
    /// from scratch: it shares `base`'s index of deletions and skips the targets it does not have.
    init(sharing base: SpellingCorrector, targets targetCounts: [String: Int], knownWords: Set<String>) {
        guard targetCounts.keys.allSatisfy({ base.targetIndex($0) != nil }) else {
            self.init(targets: targetCounts, knownWords: knownWords)
            return
        }
        self.init(targets: base.targets, frequency: base.targets.map { targetCounts[$0] ?? 0 },
                  knownWords: knownWords.union(targetCounts.keys),
                  longestTarget: targetCounts.keys.map(\.count).max() ?? 0, deletes: base.deletes)
    }

    private init(targets: [String], frequency: [Int], knownWords: Set<String>, longestTarget: Int,
                 deletes: [String: [Int32]]) {
        self.targets = targets
        self.frequency = frequency
        self.knownWords = knownWords
        self.longestTarget = longestTarget
        self.deletes = deletes
    }

    /// Where `word` is in `targets` (sorted), if it is a target.
    private func targetIndex(_ word: String) -> Int? {
        var low = 0, high = targets.count
        while low < high {
            let middle = (low + high) / 2
            if targets[middle] < word { low = middle + 1 } else { high = middle }
        }
        return low < targets.count && targets[low] == word ? low : nil
    }

    public func isKnown(_ word: String) -> Bool { knownWords.contains(word) }

    /// The corrected word, or nil when the word is known, too short, has digits, or nothing is close enough.
    public func correction(for word: String) -> String? {
        let length = word.count
        guard length >= Self.minimumLength, !knownWords.contains(word),
              !word.contains(where: { $0.isNumber }) else { return nil }
        let maxEdits = Self.maxEdits(forLength: length)
        guard length <= longestTarget + maxEdits else { return nil }
        var seen = Set<Int32>()
        var best: (index: Int, cost: Double)?
        for variant in Self.deletions(of: word, edits: maxEdits) {
            guard let indexes = deletes[variant] else { continue }
            for index in indexes where frequency[Int(index)] > 0 && seen.insert(index).inserted {
                let candidate = targets[Int(index)]
                guard abs(candidate.count - length) <= maxEdits else { continue }
                // A different first letter is a rarer typo: it costs a little more.
                let cost = Self.distance(word, candidate) + (candidate.first == word.first ? 0 : 0.05)
                guard cost <= Double(maxEdits) else { continue }
                if let current = best {
                    let i = Int(index)
                    let tie = abs(cost - current.cost) < 1e-9
                    if cost < current.cost - 1e-9
                        || (tie && frequency[i] > frequency[current.index])
                        || (tie && frequency[i] == frequency[current.index] && i < current.index) {
                        best = (i, cost)
                    }
                } else {
                    best = (Int(index), cost)
                }
            }
        }
        guard let best else { return nil }
        return targets[best.index]
    }

    static func maxEdits(forLength length: Int) -> Int { length >= longWordLength ? 2 : 1 }

    static func deletions(of word: String, edits: Int) -> Set<String> {
        // Words are nearly always plain ASCII: delete bytes, not Characters (the same strings, built faster).
        if word.isPlainASCII {
            return deletions(of: Array(word.utf8), edits: edits) { String(decoding: $0, as: UTF8.self) }
        }
        return deletions(of: Array(word), edits: edits) { String($0) }
    }

    private static func deletions<Letter>(of word: [Letter], edits: Int, text: ([Letter]) -> String) -> Set<String> {
        var result: Set<String> = [text(word)]
        var frontier: [[Letter]] = [word]
        for _ in 0..<edits {
            var next: [[Letter]] = []
            for letters in frontier where letters.count > 1 {
                for i in letters.indices {
                    var shorter = letters
                    shorter.remove(at: i)
                    if result.insert(text(shorter)).inserted { next.append(shorter) }
                }
            }
            frontier = next
        }
        return result
    }

    /// Damerau–Levenshtein (optimal string alignment) with typo-friendly weights: a swapped pair of letters
    /// costs 0.8, a missing or extra letter 0.9, a wrong letter 1.
    static func distance(_ a: String, _ b: String) -> Double {
        let s = Array(a), t = Array(b)
        if s.isEmpty { return Double(t.count) * 0.9 }
        if t.isEmpty { return Double(s.count) * 0.9 }
        var previous2 = [Double](repeating: 0, count: t.count + 1)
        var previous = (0...t.count).map { Double($0) * 0.9 }
        var current = [Double](repeating: 0, count: t.count + 1)
        for i in 1...s.count {
            current[0] = Double(i) * 0.9
            for j in 1...t.count {
                let substitution = previous[j - 1] + (s[i - 1] == t[j - 1] ? 0 : 1)
                var value = min(previous[j] + 0.9, current[j - 1] + 0.9, substitution)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    value = min(value, previous2[j - 2] + 0.8)
                }
                current[j] = value
            }
            swap(&previous2, &previous)
            swap(&previous, &current)
        }
        return previous[t.count]
    }
}
