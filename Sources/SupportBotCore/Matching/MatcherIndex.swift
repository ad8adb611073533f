import Foundation

/// A matcher's index, built once per knowledge base and never changed: the examples' features (stemmed words and
/// word pairs, TF-IDF weighted) in an inverted index, each intent's centroid, the related words the examples' words
/// stand for, the learned classifier and doubt model. `MatcherIndex+Scoring.swift` ranks a message against it;
/// `Matcher` is the public face of both.
struct MatcherIndex: Sendable {
    let config: MatchingConfig
    let analyzer: TextAnalyzer

    struct IntentInfo: Sendable {
        var id: String
        var title: String
        var after: Set<String>
    }

    let intents: [IntentInfo]
    let exampleIntent: [Int32]
    /// Examples of intent i are `intentExampleStart[i]..<intentExampleStart[i + 1]` (they are stored intent by intent).
    let intentExampleStart: [Int32]
    let exampleText: [String]
    /// Each example's features, each once, for `sharedTerms`: example `e` owns `termStart[e]..<termStart[e + 1]`
    /// of `termFeature` (sorted by id, to merge with the message's sorted features) and `termOrder` (where each
    /// first appears in the example: its stems in reading order, then its stem pairs).
    let termStart: [Int32]
    let termFeature: [Int32]
    let termOrder: [Int32]
    let unigramIDs: [String: Int32]
    /// For a stem, the examples' content stems that English says mean the same or nearly (`WordRelations`), with
    /// the relation's weight: "coupon" finds the examples that say "voucher".
    let relatedFeatures: [String: [RelatedFeature]]
    struct RelatedFeature: Sendable {
        var feature: Int32
        var weight: Float
        var kind: WordRelations.Kind
        /// The examples' word, as the table has it.
        var word: String
    }
    let bigramIDs: [UInt64: Int32]
    let featureNames: [String]
    let idf: [Float]
    let unknownUnigramWeight: Float
    let unknownBigramWeight: Float
    // Inverted index in compressed rows: postings of feature f are postingStart[f]..<postingStart[f+1].
    let postingStart: [Int32]
    let postingExample: [Int32]
    let postingWeight: [Float]
    /// |S|² for each intent, where S is the sum of its examples' unit vectors.
    let intentSumNormSquared: [Float]
    let classifier: IntentClassifier?
    let doubtModel: DoubtModel?
    /// Whether this matcher set out to learn a doubt model (see `MatcherLearning.learnedDoubt`).
    let learnedDoubt: Bool
    let intentTypicalCentroid: [Double]
    let intentTypicalLinear: [Double]

    /// The cosine between a message (or example) and an intent's centroid: its dot product with the sum of the
    /// intent's unit example vectors, over that sum's length (0 for an intent with no words).
    static func centroidCosine(_ dot: Float, sumNormSquared: Float) -> Double {
        sumNormSquared > 1e-6 ? Double(dot) / Double(sumNormSquared).squareRoot() : 0
    }

    /// - Parameters:
    ///   - learnsDoubt: also learn the doubt model (off for the smaller matchers it learns from).
    ///   - shared: what a smaller matcher of the doubt model takes from the full one.
    ///   - build: how many threads building the doubt model may take.
    init(knowledgeBase: KnowledgeBase, learnsDoubt: Bool, shared: Matcher.SharedBuild? = nil,
         build: EngineBuild = .allCores,
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
        let readings = shared?.readings ?? (learnsNow ? Matcher.ExampleReading.all(in: knowledgeBase) : nil)
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
            ? DoubtModel.startTraining(knowledgeBase: knowledgeBase, shared: Matcher.SharedBuild(
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
        let functionWordSet = Set(Matcher.functionWords)
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
                && !Matcher.questionShapeStems.contains(stem) {
                guard let entry = WordRelations.english.related(toStem: stem) else { continue }
                for relation in entry.relations where !Matcher.functionStems.contains(relation.stem)
                    && !Matcher.questionShapeStems.contains(relation.stem) {
                    relatedFeatures[relation.stem, default: []].append(
                        RelatedFeature(feature: Int32(id), weight: relation.weight, kind: relation.kind, word: entry.word))
                }
            }
        }
        // The strongest few for each word: each one is another posting list to visit.
        self.relatedFeatures = relatedFeatures.mapValues { related in
            Array(related.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.feature < $1.feature) }
                .prefix(Matcher.relatedPerWord))
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
}
