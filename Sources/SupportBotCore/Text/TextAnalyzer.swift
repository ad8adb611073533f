/// What happened to one word of a message on its way to the matcher, for `--explain`.
public struct TokenTrace: Sendable, Equatable, Codable {
    /// The word after folding and contraction expansion.
    public var word: String
    /// The knowledge-base word a typo was corrected to.
    public var corrected: String?
    /// The canonical word a synonym was mapped to.
    public var synonym: String?
    /// The stem the matcher uses.
    public var stem: String
}

/// The message pipeline shared by the index and every query: fold, tokenise, correct spelling,
/// map synonyms, stem.
public struct TextAnalyzer: Sendable {
    public let synonyms: Synonyms
    public let speller: SpellingCorrector?

    /// Every word the speller knows, already mapped and stemmed. A known word is never corrected, so its trace
    /// is the same with or without spelling correction; most words of a message are found here, and skip the
    /// speller, the synonyms and the stemmer.
    private let knownTraces: [String: TokenTrace]

    public init(synonyms: Synonyms, speller: SpellingCorrector?) {
        self.synonyms = synonyms
        self.speller = speller
        var known: [String: TokenTrace] = [:]
        for (position, word) in (speller?.knownWords ?? []).enumerated() {
            if position & 63 == 0 { BuildPacer.breathe() }
            let synonym = synonyms.canonical(for: word)
            known[word] = TokenTrace(word: word, corrected: nil, synonym: synonym,
                                     stem: PorterStemmer.stem(synonym ?? word))
        }
        self.knownTraces = known
    }

    /// E-mail addresses, phone and card numbers, and bare numbers (order numbers, amounts) say nothing
    /// about what the customer wants; they are left out so they don't dilute the words that do.
    public func analyze(_ text: String, correctSpelling: Bool = true) -> [TokenTrace] {
        var withoutPII = PIIMasker.mask(text)
        // Most messages hold no "[": skip Foundation's (slow) search and replace for them.
        if withoutPII.utf8.contains(UInt8(ascii: "[")) {
            withoutPII = withoutPII
                .replacingOccurrences(of: PIIMasker.emailToken, with: " ")
                .replacingOccurrences(of: PIIMasker.phoneToken, with: " ")
                .replacingOccurrences(of: PIIMasker.cardToken, with: " ")
                .replacingOccurrences(of: PIIMasker.ibanToken, with: " ")
        }
        return TextNormalizer.tokens(withoutPII).filter { !$0.allSatisfy(\.isNumber) }.map { word in
            if let known = knownTraces[word] { return known }
            var current = word
            var corrected: String?
            if correctSpelling, let fixed = speller?.correction(for: word) {
                corrected = fixed
                current = fixed
            }
            var synonym: String?
            if let canonical = synonyms.canonical(for: current) {
                synonym = canonical
                current = canonical
            }
            return TokenTrace(word: word, corrected: corrected, synonym: synonym, stem: PorterStemmer.stem(current))
        }
    }
}
