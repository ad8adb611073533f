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

/// Scores a message against every example of every intent. Built once per knowledge-base version,
/// immutable, safe to share between threads.
///
/// Words and adjacent word pairs (after stemming) are weighted by TF-IDF, function words damped; an example
/// scores the cosine between it and the message, found through an inverted index. An intent's score mixes its
/// closest example (`exampleWeight`) with the cosine against the sum of all its examples (its centroid), plus
/// a small bonus for a follow-up in context.
public final class Matcher: Sendable {
    public let config: MatchingConfig
    public let analyzer: TextAnalyzer

    private struct IntentInfo: Sendable {
        var id: String
        var title: String
        var after: Set<String>
    }

    private let intents: [IntentInfo]
    private let exampleIntent: [Int32]
    /// Examples of intent i are `intentExampleStart[i]..<intentExampleStart[i + 1]` (they are stored intent by intent).
    private let intentExampleStart: [Int32]
    private let exampleText: [String]
    /// Each example's features, each once, for `sharedTerms`: example `e` owns `termStart[e]..<termStart[e + 1]`
    /// of `termFeature` (sorted by id, to merge with the message's sorted features) and `termOrder` (where each
    /// first appears in the example: its stems in reading order, then its stem pairs).
    private let termStart: [Int32]
    private let termFeature: [Int32]
    private let termOrder: [Int32]
    private let unigramIDs: [String: Int32]
    /// For a stem, the examples' content stems that English says mean the same or nearly (`WordRelations`), with
    /// the relation's weight: "coupon" finds the examples that say "voucher".
    private let relatedFeatures: [String: [RelatedFeature]]
    private struct RelatedFeature: Sendable {
        var feature: Int32
        var weight: Float
        var kind: WordRelations.Kind
        /// The examples' word, as the table has it.
        var word: String
    }
    private let bigramIDs: [UInt64: Int32]
    private let featureNames: [String]
    private let idf: [Float]
    private let unknownUnigramWeight: Float
    private let unknownBigramWeight: Float
    // Inverted index in compressed rows: postings of feature f are postingStart[f]..<postingStart[f+1].
    private let postingStart: [Int32]
    private let postingExample: [Int32]
    private let postingWeight: [Float]
    /// |S|² for each intent, where S is the sum of its examples' unit vectors.
    private let intentSumNormSquared: [Float]
    private let classifier: IntentClassifier?
    private let doubtModel: DoubtModel?
    /// Whether this matcher set out to learn a doubt model (see `MatcherLearning.learnedDoubt`).
    private let learnedDoubt: Bool
    private let intentTypicalCentroid: [Double]
    private let intentTypicalLinear: [Double]

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

    /// The cosine between a message (or example) and an intent's centroid: its dot product with the sum of the
    /// intent's unit example vectors, over that sum's length (0 for an intent with no words).
    private static func centroidCosine(_ dot: Float, sumNormSquared: Float) -> Double {
        sumNormSquared > 1e-6 ? Double(dot) / Double(sumNormSquared).squareRoot() : 0
    }

    /// One intent's figures for a message, as `rank` sorts them.
    private typealias Scored = (intent: Int32, score: Double, example: Int32, similarity: Double, probability: Double,
                                closest: Double)

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

    public var exampleCount: Int { exampleText.count }

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
        MatcherLearning(classifier: classifier, doubtModel: doubtModel, learnedDoubt: learnedDoubt,
                        featureCount: featureNames.count, intentCount: intents.count)
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
        self.config = knowledgeBase.matching
        let learning = learnsDoubt && knowledgeBase.matching.doubtThreshold < 1
        self.learnedDoubt = learning
        // A doubt model learned before is taken as it is (it does not depend on this matcher's feature numbering);
        // a kept nil means the knowledge base was too small to learn one.
        let keptDoubt: DoubtModel?
        let learnsNow: Bool
        if learning, let learned, learned.learnedDoubt, learned.doubtModel?.isWellFormed ?? true {
            (keptDoubt, learnsNow) = (learned.doubtModel, false)
        } else {
            (keptDoubt, learnsNow) = (nil, learning)
        }
        let readings = shared?.readings ?? (learnsNow ? ExampleReading.all(in: knowledgeBase) : nil)
        var fixedKnownWords: Set<String>
        if let shared {
            fixedKnownWords = shared.fixedKnownWords
        } else {
            fixedKnownWords = knowledgeBase.synonyms.allWords.union(CommonWords.all)
            for article in knowledgeBase.articles.values {
                fixedKnownWords.formUnion(TextNormalizer.tokens(article.title))
                fixedKnownWords.formUnion(TextNormalizer.tokens(article.body))
            }
        }
        var counts: [String: Int] = [:]
        var known = fixedKnownWords
        for intent in knowledgeBase.intents {
            for example in intent.examples {
                for word in readings?[example]?.words ?? TextNormalizer.tokens(example) { counts[word, default: 0] += 1 }
            }
            known.formUnion(TextNormalizer.tokens(intent.title))
        }
        let speller = shared.map { SpellingCorrector(sharing: $0.speller, targets: counts, knownWords: known) }
            ?? SpellingCorrector(targets: counts, knownWords: known)
        // The doubt model learns on two threads of its own while this matcher is built (or after it, on this thread).
        let training = learnsNow
            ? DoubtModel.startTraining(knowledgeBase: knowledgeBase, shared: SharedBuild(
                readings: readings ?? [:], speller: speller, fixedKnownWords: fixedKnownWords), build: build)
            : nil
        // Evidence is gathered by the smaller matchers a doubt model learns from, and by a matcher that has one.
        let gathersEvidence = !learnsDoubt || training != nil || keptDoubt != nil
        let analyzer = TextAnalyzer(synonyms: knowledgeBase.synonyms, speller: speller)
        self.analyzer = analyzer

        var intents: [IntentInfo] = []
        var exampleIntent: [Int32] = []
        var exampleText: [String] = []
        var unigramIDs: [String: Int32] = [:]
        var bigramIDs: [UInt64: Int32] = [:]
        var featureNames: [String] = []
        var documentFrequency: [Int] = []
        var exampleFeatures: [[Int32: Int]] = []
        var exampleTerms: [[Int32]] = []

        func unigram(_ stem: String) -> Int32 {
            if let id = unigramIDs[stem] { return id }
            let id = Int32(featureNames.count)
            unigramIDs[stem] = id
            featureNames.append(stem)
            documentFrequency.append(0)
            return id
        }

        // A stem counts as a function word only if no content word produces it ("us" from "use" is content).
        let functionWordSet = Set(Self.functionWords)
        var contentStems = Set<String>()

        for intent in knowledgeBase.intents {
            let intentIndex = Int32(intents.count)
            intents.append(IntentInfo(id: intent.id, title: intent.title, after: Set(intent.after)))
            for example in intent.examples {
                BuildPacer.breathe()
                let traces = readings?[example]?.traces ?? analyzer.analyze(example, correctSpelling: false)
                for trace in traces where !functionWordSet.contains(trace.synonym ?? trace.word) {
                    contentStems.insert(trace.stem)
                }
                let stems = traces.map(\.stem)
                let terms = stems.map(unigram)
                var features: [Int32: Int] = [:]
                var ordered = terms
                for term in terms { features[term, default: 0] += 1 }
                for (a, b) in zip(terms, terms.dropFirst()) {
                    let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
                    let id: Int32
                    if let existing = bigramIDs[key] {
                        id = existing
                    } else {
                        id = Int32(featureNames.count)
                        bigramIDs[key] = id
                        featureNames.append(featureNames[Int(a)] + " " + featureNames[Int(b)])
                        documentFrequency.append(0)
                    }
                    features[id, default: 0] += 1
                    ordered.append(id)
                }
                for feature in features.keys { documentFrequency[Int(feature)] += 1 }
                exampleFeatures.append(features)
                exampleTerms.append(ordered)
                exampleIntent.append(intentIndex)
                exampleText.append(example)
            }
        }

        let total = Double(max(exampleText.count, 1))
        let isBigram = { (feature: Int) -> Bool in featureNames[feature].utf8.contains(UInt8(ascii: " ")) }
        var idf = [Float](repeating: 0, count: featureNames.count)
        var maxIDF: Float = 1
        for feature in featureNames.indices {
            let value = Float(log(1 + total / Double(documentFrequency[feature])))
            let parts = featureNames[feature].split(separator: " ")
            let functionParts = parts.filter { !contentStems.contains(String($0)) }.count
            let damping: Float = functionParts == parts.count ? Float(config.functionWordWeight) : 1
            idf[feature] = (isBigram(feature) ? value * Float(config.bigramWeight) : value) * damping
            maxIDF = max(maxIDF, value)
        }
        self.unknownUnigramWeight = maxIDF
        var relatedFeatures: [String: [RelatedFeature]] = [:]
        if config.relatedWordWeight > 0 {
            for (id, stem) in featureNames.enumerated() where !isBigram(id) && contentStems.contains(stem)
                && !Self.questionShapeStems.contains(stem) {
                guard let entry = WordRelations.english.related(toStem: stem) else { continue }
                for relation in entry.relations where !Self.functionStems.contains(relation.stem)
                    && !Self.questionShapeStems.contains(relation.stem) {
                    relatedFeatures[relation.stem, default: []].append(
                        RelatedFeature(feature: Int32(id), weight: relation.weight, kind: relation.kind, word: entry.word))
                }
            }
        }
        // The strongest few for each word: each one is another posting list to visit.
        self.relatedFeatures = relatedFeatures.mapValues { related in
            Array(related.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.feature < $1.feature) }
                .prefix(Self.relatedPerWord))
        }
        self.unknownBigramWeight = maxIDF * Float(config.bigramWeight) * 0.5

        var rows = [[(Int32, Float)]](repeating: [], count: featureNames.count)
        var vectors: [[(Int32, Float)]] = []
        var intentSums = [[Int32: Float]](repeating: [:], count: intents.count)
        for (exampleIndex, features) in exampleFeatures.enumerated() {
            BuildPacer.breathe()
            var weights: [(Int32, Float)] = features.map { feature, count in
                (feature, (1 + Float(log(Double(count)))) * idf[Int(feature)])
            }.sorted { $0.0 < $1.0 }
            let norm = sqrt(weights.reduce(0) { $0 + $1.1 * $1.1 })
            if norm > 0 { weights = weights.map { ($0.0, $0.1 / norm) } }
            for (feature, weight) in weights {
                rows[Int(feature)].append((Int32(exampleIndex), weight))
                intentSums[Int(exampleIntent[exampleIndex])][feature, default: 0] += weight
            }
            vectors.append(weights)
        }
        if config.classifierWeight <= 0 {
            self.classifier = nil
        } else if let kept = learned?.classifier, kept.fits(featureCount: featureNames.count, intentCount: intents.count) {
            self.classifier = kept
        } else {
            self.classifier = IntentClassifier(vectors: vectors, labels: exampleIntent, intentCount: intents.count,
                                               featureCount: featureNames.count, epochs: config.classifierEpochs)
        }
        let sumNormSquared = intentSums.map { sum in
            sum.sorted { $0.key < $1.key }.reduce(0) { $0 + $1.value * $1.value }
        }
        self.intentSumNormSquared = sumNormSquared
        // What an intent's own examples typically score against it: the cosine with its centroid, and the
        // classifier's score. A message far below its top intent's typical figures is suspect.
        var typicalCentroid = [Double](repeating: 0, count: intents.count)
        var typicalLinear = [Double](repeating: 0, count: intents.count)
        var perIntent = [Int](repeating: 0, count: intents.count)
        var linear = [Float](repeating: 0, count: intents.count)
        if gathersEvidence {
            for (exampleIndex, vector) in vectors.enumerated() {
                BuildPacer.breathe()
                let i = Int(exampleIntent[exampleIndex])
                perIntent[i] += 1
                var dot: Float = 0
                for (feature, weight) in vector { dot += weight * (intentSums[i][feature] ?? 0) }
                typicalCentroid[i] += Self.centroidCosine(dot, sumNormSquared: sumNormSquared[i])
                if let classifier {
                    for c in linear.indices { linear[c] = 0 }
                    classifier.score(vector, into: &linear)
                    typicalLinear[i] += Double(linear[i])
                }
            }
        }
        self.intentTypicalCentroid = zip(typicalCentroid, perIntent).map { $1 > 0 ? $0 / Double($1) : 0 }
        self.intentTypicalLinear = zip(typicalLinear, perIntent).map { $1 > 0 ? $0 / Double($1) : 0 }
        var postingStart: [Int32] = [0]
        var postingExample: [Int32] = []
        var postingWeight: [Float] = []
        for row in rows {
            for (example, weight) in row {
                postingExample.append(example)
                postingWeight.append(weight)
            }
            postingStart.append(Int32(postingExample.count))
        }

        self.intents = intents
        self.exampleIntent = exampleIntent
        var intentExampleStart = [Int32](repeating: 0, count: intents.count + 1)
        for intent in exampleIntent { intentExampleStart[Int(intent) + 1] += 1 }
        for i in intents.indices { intentExampleStart[i + 1] += intentExampleStart[i] }
        self.intentExampleStart = intentExampleStart
        self.exampleText = exampleText
        var termStart: [Int32] = [0], termFeature: [Int32] = [], termOrder: [Int32] = []
        for terms in exampleTerms {
            // By feature, then by first appearance; a feature that appears again is kept once.
            let byFeature = terms.enumerated().sorted { ($0.element, $0.offset) < ($1.element, $1.offset) }
            let exampleStart = Int(termStart.last!)
            for (order, feature) in byFeature where termFeature.count == exampleStart || termFeature.last != feature {
                termFeature.append(feature)
                termOrder.append(Int32(order))
            }
            termStart.append(Int32(termFeature.count))
        }
        self.termStart = termStart
        self.termFeature = termFeature
        self.termOrder = termOrder
        self.unigramIDs = unigramIDs
        self.bigramIDs = bigramIDs
        self.featureNames = featureNames
        self.idf = idf
        self.postingStart = postingStart
        self.postingExample = postingExample
        self.postingWeight = postingWeight
        self.doubtModel = learnsNow ? training?.finish() : keptDoubt
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
        let tokens = analyzer.analyze(text)
        let ranked = rank(stems: tokens.map(\.stem), earlierStems: earlierStems,
                          context: [lastIntent, topic].compactMap { $0 }, limit: limit, withEvidence: doubtModel != nil)
        var result = MatchResult(tokens: tokens, candidates: ranked.candidates)
        if let doubtModel, let evidence = ranked.evidence {
            (result.doubt, result.doubtFactors) = doubtModel.verdict(evidence)
        }
        return result
    }

    /// How much a related word counts for a word of the message (0: not at all): the relation's weight times
    /// `relatedWordWeight`, times `knownRelatedShare` when some example has the message's word.
    private func relatedCount(_ relation: RelatedFeature, wordIsKnown: Bool) -> Float {
        let counted = Float(config.relatedWordWeight) * relation.weight * (wordIsKnown ? Self.knownRelatedShare : 1)
        return counted >= Self.minimumRelatedWeight ? counted : 0
    }

    /// What each word of a read message (`MatchResult.tokens`) counted as, beside itself, as `rank` widens it: for
    /// `--explain`, worked out only when asked.
    public func relatedWords(for tokens: [TokenTrace]) -> [RelatedWordUse] {
        guard !relatedFeatures.isEmpty else { return [] }
        var uses: [RelatedWordUse] = []
        var seen = Set<String>()
        for token in tokens where seen.insert(token.stem).inserted {
            guard let related = relatedFeatures[token.stem] else { continue }
            let known = unigramIDs[token.stem] != nil
            for relation in related {
                let counted = relatedCount(relation, wordIsKnown: known)
                guard counted > 0 else { continue }
                uses.append(RelatedWordUse(word: token.synonym ?? token.corrected ?? token.word,
                                           related: relation.word, kind: relation.kind,
                                           weight: (Double(counted) * 1000).rounded() / 1000))
            }
        }
        return uses
    }

    /// The stems of a read message that some example has, in order: what a later follow-up is read with. Words no
    /// example has (names, numbers, addresses) are left out, so nothing a customer typed beyond the knowledge base's
    /// own words is kept.
    public func topicStems(of tokens: [TokenTrace]) -> [String] {
        tokens.map(\.stem).filter { unigramIDs[$0] != nil }
    }

    /// The top intent for a message asked without context, and the evidence about it (for the doubt model).
    func evidence(for text: String) -> (intent: String, evidence: MatchEvidence)? {
        let ranked = rank(stems: analyzer.analyze(text).map(\.stem), earlierStems: [], context: [], limit: 1,
                          withEvidence: true)
        guard let top = ranked.candidates.first, let evidence = ranked.evidence else { return nil }
        return (top.intent, evidence)
    }

    /// The example texts with their intent ids, in index order.
    public var examples: [(intent: String, text: String)] {
        zip(exampleIntent, exampleText).map { (intents[Int($0.0)].id, $0.1) }
    }

    /// - Parameter withEvidence: also gather the evidence about the top intent (for the doubt model), unless it is a
    ///   follow-up.
    private func rank(stems: [String], earlierStems: [String], context: [String], limit: Int, withEvidence: Bool)
        -> (candidates: [Candidate], evidence: MatchEvidence?) {
        // Query features: known ones take part in the dot product; unknown ones only lower the norm.
        var queryCounts: [Int32: Int] = [:]
        var unknownNormSquared: Float = 0
        // Examples' words related to the message's words, as weights in the query: the strongest relation for each,
        // times its share, and never weighing more than the message's own word would (its idf, or an unknown word's).
        var relatedWeights: [Int32: Float] = [:]
        for part in [earlierStems, stems] where !part.isEmpty {
            var termIDs: [Int32?] = []
            termIDs.reserveCapacity(part.count)
            for stem in part {
                let id = unigramIDs[stem]
                var covered: Float = 0
                if !relatedFeatures.isEmpty, let related = relatedFeatures[stem] {
                    let own = id.map { idf[Int($0)] } ?? unknownUnigramWeight
                    for relation in related {
                        let counted = relatedCount(relation, wordIsKnown: id != nil)
                        guard counted > 0 else { continue }
                        let weight = counted * min(idf[Int(relation.feature)], own)
                        relatedWeights[relation.feature] = max(relatedWeights[relation.feature] ?? 0, weight)
                        covered = max(covered, counted)
                    }
                }
                if let id {
                    queryCounts[id, default: 0] += 1
                } else {
                    // An unknown word lowers the score less when related words stood in for it.
                    let left = unknownUnigramWeight * (1 - covered)
                    unknownNormSquared += left * left
                }
                termIDs.append(id)
            }
            for (a, b) in zip(termIDs, termIDs.dropFirst()) {
                if let a, let b, let id = bigramIDs[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] {
                    queryCounts[id, default: 0] += 1
                } else {
                    unknownNormSquared += unknownBigramWeight * unknownBigramWeight
                }
            }
        }
        let stems = earlierStems + stems
        // The message's own features, sorted: the follow-up check and the shared terms look at these only.
        let ownFeatures = queryCounts.keys.sorted()
        for feature in relatedWeights.keys where queryCounts[feature] == nil {
            queryCounts[feature] = 0  // a placeholder: its weight is set below
        }
        // Sorted, so float sums always add up in the same order: same message, same scores, to the last bit.
        var query: [(Int32, Float)] = queryCounts.sorted { $0.key < $1.key }.map {
            $0.value > 0 ? ($0.key, (1 + Float(log(Double($0.value)))) * idf[Int($0.key)]) : ($0.key, relatedWeights[$0.key] ?? 0)
        }
        let norm = sqrt(query.reduce(unknownNormSquared) { $0 + $1.1 * $1.1 })
        guard norm > 0, !query.isEmpty else { return ([], nil) }
        query = query.map { ($0.0, $0.1 / norm) }

        // Dot products through the inverted index. Every weight is above 0, so an example shares a feature with the
        // message exactly when its dot product is above 0. (The hot loop of the matcher: no bounds checks.)
        var dot = [Float](repeating: 0, count: exampleText.count)
        dot.withUnsafeMutableBufferPointer { dot in
            postingStart.withUnsafeBufferPointer { starts in
                postingExample.withUnsafeBufferPointer { examples in
                    postingWeight.withUnsafeBufferPointer { weights in
                        for (feature, weight) in query {
                            var p = Int(starts[Int(feature)])
                            let end = Int(starts[Int(feature) + 1])
                            while p < end {
                                dot[Int(examples[p])] += weight * weights[p]
                                p += 1
                            }
                        }
                    }
                }
            }
        }

        // Per intent: the closest example (the first one on a tie), and the cosine with the sum of all its examples.
        // An intent's examples are stored together, so this is one pass over the dot products, in order.
        let byContext = intents.map { eligible($0, context: context) }
        var isEligible = byContext
        var best = [Float](repeating: 0, count: intents.count)
        var sum = [Float](repeating: 0, count: intents.count)
        var bestExample = [Int32](repeating: -1, count: intents.count)
        var hitIntents: [Int32] = []
        // A follow-up (`after:`) out of its context is still reached when the message says enough on its own: close
        // to one of its examples, with topic words in common ("tracking says delivered but theres nothing here"),
        // not only the shape of a question ("how long does it take"). Only the message itself can say so: read with an
        // earlier question's words (`earlierStems`), those words would count too.
        let mayStandAlone = earlierStems.isEmpty
        dot.withUnsafeBufferPointer { dot in
            for i in intents.indices where mayStandAlone && !isEligible[i] {
                var top: Float = 0, topExample = -1
                for e in Int(intentExampleStart[i])..<Int(intentExampleStart[i + 1]) where dot[e] > top {
                    top = dot[e]
                    topExample = e
                }
                guard Double(top) >= Self.standaloneFollowUpSimilarity else { continue }
                isEligible[i] = ownFeatures.withUnsafeBufferPointer { topicWordsShared(example: topExample, query: $0) }
                    >= Self.standaloneFollowUpWords
            }
            for i in intents.indices where isEligible[i] {
                // Without branches (most dot products are 0 and the rest come in no order a CPU can guess).
                var top: Float = 0, total: Float = 0, topExample = -1
                for e in Int(intentExampleStart[i])..<Int(intentExampleStart[i + 1]) {
                    let score = dot[e]
                    total += score
                    let better = score > top
                    top = better ? score : top
                    topExample = better ? e : topExample
                }
                guard topExample >= 0 else { continue }
                hitIntents.append(Int32(i))
                best[i] = top
                sum[i] = total
                bestExample[i] = Int32(topExample)
            }
        }

        let exampleWeight = config.exampleWeight
        // The classifier's view: a softmax over the linear scores of the eligible intents.
        var probability: [Float] = []
        var linear: [Float] = []
        var entropy = 0.0, weightedLogits = 0.0
        if let classifier {
            linear = [Float](repeating: 0, count: intents.count)
            classifier.score(query, into: &linear)
            let temperature = Float(config.classifierTemperature)
            var maximum = -Float.infinity
            for c in intents.indices where isEligible[c] {
                maximum = max(maximum, linear[c])
            }
            var total: Float = 0
            probability = [Float](repeating: 0, count: intents.count)
            for c in intents.indices where isEligible[c] {
                let logit = (linear[c] - maximum) / temperature
                probability[c] = exp(logit)
                total += probability[c]
                weightedLogits += Double(probability[c] * logit)
            }
            if total > 0 {
                for c in probability.indices { probability[c] /= total }
                // The softmax's entropy, −Σ p·log p, without a log per intent.
                entropy = log(Double(total)) - weightedLogits / Double(total)
            }
        }
        let classifierWeight = classifier == nil ? 0 : config.classifierWeight
        var scored: [Scored] = hitIntents.map { intent in
            let i = Int(intent)
            let centroid = Self.centroidCosine(sum[i], sumNormSquared: intentSumNormSquared[i])
            let similarity = exampleWeight * Double(best[i]) + (1 - exampleWeight) * centroid
            let chance = classifierWeight > 0 ? Double(probability[Int(intent)]) : 0
            var score = (1 - classifierWeight) * similarity + classifierWeight * chance
            if !intents[Int(intent)].after.isEmpty && byContext[Int(intent)] { score += Self.followUpBonus }
            return (intent, min(1, max(0, score)), bestExample[i], similarity, chance, Double(best[i]))
        }
        // Only the best `limit` are needed, in order: keep them in a short sorted list instead of sorting all.
        func ranksAbove(_ a: (intent: Int32, score: Double), _ b: (intent: Int32, score: Double)) -> Bool {
            a.score != b.score ? a.score > b.score : a.intent < b.intent
        }
        let keep = max(limit, 2)  // the evidence looks at the runner-up
        var leaders: [Scored] = []
        leaders.reserveCapacity(keep + 1)
        for item in scored {
            if leaders.count == keep, let last = leaders.last, !ranksAbove((item.intent, item.score), (last.intent, last.score)) {
                continue
            }
            var position = leaders.count
            while position > 0, ranksAbove((item.intent, item.score), (leaders[position - 1].intent, leaders[position - 1].score)) {
                position -= 1
            }
            leaders.insert(item, at: position)
            if leaders.count > keep { leaders.removeLast() }
        }
        scored = leaders

        var evidence: MatchEvidence?
        if withEvidence, let top = scored.first, intents[Int(top.intent)].after.isEmpty {
            let t = Int(top.intent)
            let runnerUp = scored.dropFirst().first
            func centroid(_ i: Int) -> Double { Self.centroidCosine(sum[i], sumNormSquared: intentSumNormSquared[i]) }
            var otherCentroid = 0.0, nearest: Float = 0, nearestIntent = -1
            for intent in hitIntents {
                let i = Int(intent)
                if i != t { otherCentroid = max(otherCentroid, centroid(i)) }
                if best[i] > nearest { nearest = best[i]; nearestIntent = i }
            }
            var otherLinear = -Double.infinity, linearTotal = 0.0, eligibleCount = 0.0
            if !linear.isEmpty {
                for c in intents.indices where isEligible[c] {
                    if c != t { otherLinear = max(otherLinear, Double(linear[c])) }
                    linearTotal += Double(linear[c])
                    eligibleCount += 1
                }
            }
            let topLinear = linear.isEmpty ? 0 : Double(linear[t])
            if otherLinear == -.infinity { otherLinear = topLinear }
            evidence = MatchEvidence(plain: [
                top.score, top.score - (runnerUp?.score ?? 0), top.probability, top.closest, top.similarity,
                centroid(t), otherCentroid, runnerUp?.closest ?? 0, runnerUp?.similarity ?? 0, entropy,
                log(1 + Double(hitIntents.count)), Double(1 - unknownNormSquared / (norm * norm)), topLinear,
                otherLinear, eligibleCount > 0 ? linearTotal / eligibleCount : 0, Double(nearest),
                nearestIntent == t ? 1 : 0, log(1 + Double(query.count)), log(1 + Double(stems.count)),
                topLinear >= otherLinear ? 1 : 0, centroid(t) - intentTypicalCentroid[t],
                topLinear - intentTypicalLinear[t],
            ])
        }

        let candidates = ownFeatures.withUnsafeBufferPointer { queryFeatures in
            scored.prefix(limit).map { item in
                let info = intents[Int(item.intent)]
                return Candidate(intent: info.id, title: info.title, score: (item.score * 1000).rounded() / 1000,
                                 similarity: (item.similarity * 1000).rounded() / 1000,
                                 probability: (item.probability * 1000).rounded() / 1000,
                                 closest: (item.closest * 1000).rounded() / 1000,
                                 example: exampleText[Int(item.example)],
                                 sharedTerms: sharedTerms(example: Int(item.example), query: queryFeatures))
            }
        }
        return (candidates, evidence)
    }

    /// Follow-ups (`after:`) are only eligible right after one of their parents.
    private func eligible(_ info: IntentInfo, context: [String]) -> Bool {
        info.after.isEmpty || context.contains(where: info.after.contains)
    }

    /// How many topic words the example shares with the message: single words (not word pairs) that are neither
    /// function words nor the shape of a question (`questionShapeStems`: "how long does it take" has none).
    private func topicWordsShared(example: Int, query: UnsafeBufferPointer<Int32>) -> Int {
        sharedTerms(example: example, query: query).filter {
            !$0.utf8.contains(UInt8(ascii: " ")) && !Self.functionStems.contains($0) && !Self.questionShapeStems.contains($0)
        }.count
    }

    /// The features an example shares with the message, in the order they appear in the example.
    /// - Parameter query: the message's feature ids, sorted and distinct.
    private func sharedTerms(example: Int, query: UnsafeBufferPointer<Int32>) -> [String] {
        var shared: [(order: Int32, feature: Int32)] = []
        var t = Int(termStart[example]), q = 0
        let end = Int(termStart[example + 1])
        while t < end && q < query.count {  // both sorted: one merge
            let feature = termFeature[t]
            if feature < query[q] {
                t += 1
            } else if feature > query[q] {
                q += 1
            } else {
                shared.append((termOrder[t], feature))
                t += 1
                q += 1
            }
        }
        shared.sort { $0.order < $1.order }
        return shared.map { featureNames[Int($0.feature)] }
    }
}
