import Foundation

/// Scores a message against every example of every intent. Built once per knowledge-base version,
/// immutable, safe to share between threads.
///
/// Words and adjacent word pairs (after stemming) are weighted by TF-IDF, function words damped; an example
/// scores the cosine between it and the message, found through an inverted index. An intent's score mixes its
/// closest example (`exampleWeight`) with the cosine against the sum of all its examples (its centroid), plus
/// a small bonus for a follow-up in context.
public final class Matcher: Sendable {
    /// What the matcher knows (see `MatcherIndex`), and how it ranks a message (`MatcherIndex+Scoring.swift`).
    let index: MatcherIndex

    public var config: MatchingConfig { index.config }
    public var analyzer: TextAnalyzer { index.analyzer }

    static let followUpBonus = 0.05
    /// A word some example has also counts as its related words, at this share of `relatedWordWeight` (a word no
    /// example has counts at the whole of it). Chosen on the same split (0, 0.3, 0.6 and 1 tried).
    static let knownRelatedShare: Float = 0.3
    /// A related word that would count less than this does not count at all (nor clutter `--explain`).
    static let minimumRelatedWeight: Float = 0.05
    /// At most this many related words count for one word of the message.
    static let relatedPerWord = 3
    /// A follow-up out of its context is eligible when the message is at least this close to one of its examples…
    static let standaloneFollowUpSimilarity = 0.5
    /// …and shares at least this many topic words with it (`topicWordsShared`).
    static let standaloneFollowUpWords = 2
    static let functionStems = Set(functionWords.map(PorterStemmer.stem))
    /// Words that give a question its shape, not its topic: "how long does it take", "how much is it", "what
    /// happens then". A follow-up needs more than these to be reached out of its context.
    static let questionShapeStems = Set(["how", "long", "take", "much", "many", "soon", "often", "time", "when", "where",
                                         "why", "which", "who", "happen", "mean", "work", "go", "come", "back", "again",
                                         "wait", "ago", "day", "week", "next", "after", "before", "first", "last",
                                         "more", "less", "other", "same", "not", "no", "don't", "do", "cost", "pay"]
        .map(PorterStemmer.stem))



    /// Words that carry little meaning on their own. Question words (where, how, when) are not here:
    /// in support chats they matter ("where is" = tracking, "how long" = timing).
    static let functionWords: [String] = [
        "a", "an", "the", "i", "me", "my", "mine", "you", "your", "we", "us", "our", "it", "its", "is", "am", "are",
        "was", "were", "be", "been", "being", "do", "does", "did", "have", "has", "had", "to", "of", "in", "on",
        "at", "for", "with", "from", "by", "about", "as", "into", "and", "or", "but", "so", "if", "then", "that",
        "this", "these", "those", "there", "here", "can", "could", "would", "should", "will", "shall", "may",
        "might", "must", "please", "pls", "hi", "hello", "hey", "just", "some", "any", "get", "got", "im", "want",
        "need", "like", "know", "tell", "let", "ok", "okay", "thanks", "thank", "up", "out", "also", "too", "very",
        "really", "still", "yet", "now", "one", "them", "they", "their", "he", "she", "his", "her", "what",
    ]

    public var exampleCount: Int { index.exampleText.count }

    /// - Parameters:
    ///   - build: `.oneCore` for a version built while chats are being served (see `EngineBuild`).
    ///   - learned: what a matcher of the same knowledge base learned before (`learning`); the classifier and the
    ///     doubt model are taken from it instead of being learned again. A part that does not fit is learned anew.
    public convenience init(knowledgeBase: KnowledgeBase, build: EngineBuild = .allCores,
                            learned: MatcherLearning? = nil) {
        self.init(knowledgeBase: knowledgeBase, learnsDoubt: true, build: build, learned: learned)
    }

    /// What this matcher learned, to hand to a later build of the same knowledge base.
    public var learning: MatcherLearning {
        MatcherLearning(classifier: index.classifier, doubtModel: index.doubtModel, learnedDoubt: index.learnedDoubt,
                        featureCount: index.featureNames.count, intentCount: index.intents.count)
    }

    /// An example's words and its analysis without spelling correction: the same in every matcher built from the
    /// same synonyms, so the smaller matchers of the doubt model reuse them instead of reading every example again.
    struct ExampleReading: Sendable {
        var words: [String]
        var traces: [TokenTrace]

        static func all(in knowledgeBase: KnowledgeBase) -> [String: ExampleReading] {
            let analyzer = TextAnalyzer(synonyms: knowledgeBase.synonyms, speller: nil)
            var readings: [String: ExampleReading] = [:]
            for intent in knowledgeBase.intents {
                for example in intent.examples where readings[example] == nil {
                    BuildPacer.breathe()
                    readings[example] = ExampleReading(words: TextNormalizer.tokens(example),
                                                       traces: analyzer.analyze(example, correctSpelling: false))
                }
            }
            return readings
        }
    }

    /// What the smaller matchers of the doubt model take from the full one instead of working it out again.
    struct SharedBuild: Sendable {
        var readings: [String: ExampleReading]
        /// The full matcher's corrector: a smaller one shares its index of deletions.
        var speller: SpellingCorrector
        /// Words known whatever the intents: synonyms, common words, the articles' words.
        var fixedKnownWords: Set<String>
    }

    /// - Parameters:
    ///   - learnsDoubt: also learn the doubt model (off for the smaller matchers it learns from).
    ///   - shared: what a smaller matcher of the doubt model takes from the full one.
    ///   - build: how many threads building the doubt model may take.
    init(knowledgeBase: KnowledgeBase, learnsDoubt: Bool, shared: SharedBuild? = nil, build: EngineBuild = .allCores,
         learned: MatcherLearning? = nil) {
        index = MatcherIndex(knowledgeBase: knowledgeBase, learnsDoubt: learnsDoubt, shared: shared, build: build,
                             learned: learned)
    }

    /// Ranks intents for a message.
    /// - Parameters:
    ///   - lastIntent: the intent answered just before; follow-up intents (`after:`) are only eligible right after it…
    ///   - topic: …or while the conversation is still on their parent (after a sibling follow-up).
    ///   - limit: how many candidates to return.
    ///   - earlierStems: stems of the question that set the conversation's topic (`topicStems(of:)`), read together
    ///     with the message: "how long do i wait" after "my account is locked". Word pairs don't cross from one to
    ///     the other.
    public func match(_ text: String, lastIntent: String? = nil, topic: String? = nil, earlierStems: [String] = [],
                      limit: Int = 5) -> MatchResult {
        index.match(text, lastIntent: lastIntent, topic: topic, earlierStems: earlierStems, limit: limit)
    }

    /// What each word of a read message (`MatchResult.tokens`) counted as, beside itself: for `--explain`.
    public func relatedWords(for tokens: [TokenTrace]) -> [RelatedWordUse] { index.relatedWords(for: tokens) }

    /// The stems of a read message that some example has, in order: what a later follow-up is read with.
    public func topicStems(of tokens: [TokenTrace]) -> [String] { index.topicStems(of: tokens) }

    /// The top intent for a message asked without context, and the evidence about it (for the doubt model).
    func evidence(for text: String) -> (intent: String, evidence: MatchEvidence)? { index.evidence(for: text) }

    /// The example texts with their intent ids, in index order.
    public var examples: [(intent: String, text: String)] { index.examples }
}
