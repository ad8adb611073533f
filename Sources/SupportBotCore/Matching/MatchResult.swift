import Foundation

/// One intent the matcher considered, with the evidence for its score.
public struct Candidate: Sendable, Equatable, Codable {
    public var intent: String
    public var title: String
    /// Confidence from 0 to 1.
    public var score: Double
    /// The similarity part of the score (closest example and centroid), before the classifier's share.
    public var similarity: Double
    /// The classifier's probability for this intent (0 when the classifier is off).
    public var probability: Double
    /// Cosine between the message and the closest example.
    public var closest: Double
    /// The example of this intent closest to the message.
    public var example: String
    /// Stems and word pairs the message shares with that example.
    public var sharedTerms: [String]
}

/// A word of the message that counted as a word of the examples that means the same or nearly.
public struct RelatedWordUse: Sendable, Equatable, Codable {
    /// The message's word, and the examples' word it counted as.
    public var word: String
    public var related: String
    public var kind: WordRelations.Kind
    /// How much it counted: the relation's weight (0.25 to 1) times `relatedWordWeight`, and times
    /// `Matcher.knownRelatedShare` when some example has the message's word.
    public var weight: Double
}

/// The matcher's verdict on one message: how it read the words, and the intents ranked best first.
public struct MatchResult: Sendable, Equatable, Codable {
    public var tokens: [TokenTrace]
    public var candidates: [Candidate]

    public init(tokens: [TokenTrace], candidates: [Candidate]) {
        self.tokens = tokens
        self.candidates = candidates
    }

    /// The doubt model's chance (0…1) that the best intent is wrong or the question is not covered; nil when the
    /// knowledge base is too small to learn one, when it is turned off, and when the best intent is a follow-up
    /// (the model learns from questions asked out of context, so it does not judge follow-ups).
    public var doubt: Double?
    /// The inputs that pushed the doubt up or down most, for `--explain`.
    public var doubtFactors: [DoubtFactor] = []

    public var best: Candidate? { candidates.first }

    /// How far the best intent leads the runner-up (the whole score when there is no runner-up).
    public var lead: Double { (best?.score ?? 0) - (candidates.dropFirst().first?.score ?? 0) }
}
