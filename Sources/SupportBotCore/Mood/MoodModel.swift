import Foundation
import SupportBotData

/// A learned model of upset and angry messages, next to the word rules: logistic regression over TF-IDF character
/// n-grams (2 to 5 letters, inside words, punctuation kept). It hears anger written without the usual words ("so I
/// just lose £60 then?").
///
/// Two steps. The **general model** learns from many messages written and labelled by people: the GoEmotions comments
/// (43,410, anger or annoyance marked; `../shared/datasets/goemotions/train.csv`), BANKING77's training questions
/// (10,003 real customers' questions to a bank, all taken as calm; `../shared/datasets/banking77/train.csv`) and the
/// labelled support chats in `MoodTrainingData`. It takes a while to train, so it is trained once by `scripts/generate-mood-model.sh` and its
/// weights ship in `MoodModelWeights.swift`. It decides whether the bot says sorry. The **support model** learns from
/// the support chats alone (`MoodSupportModelWeights.swift`); it backs up the rules when they hear anger, and so
/// helps decide a handoff. Each engine **adapts** both to the shop it serves (`adapted`): the shop's own example
/// questions are taught as calm, so "what do you charge for a bike service" in a bike shop is a question, not a
/// complaint. Deterministic: the same data always gives the same weights.
///
/// The shipped weights carry the fingerprint of the support chats they were learned with; if that differs (the
/// chats changed and the weights were not written again), the general model is trained at first use from the chats
/// alone, and a test fails until the weights are written again.
struct MoodModel: Sendable, Equatable {
    let vocabulary: GramTable
    let idf: [Double]
    let weights: [Double]
    let bias: Double

    /// The general model: read from the shipped weights once per process, on first use (trained from the support
    /// chats alone only if they are out of date).
    static let general = shipped ?? MoodModel(examples: MoodTrainingData.examples)

    /// The generated weights, when they were learned with the support chats compiled in now.
    static var shipped: MoodModel? {
        guard MoodModelWeights.fingerprint == fingerprint(of: MoodTrainingData.examples) else { return nil }
        return MoodModel(encoded: MoodModelWeights.encoded, bias: Double(bitPattern: MoodModelWeights.bias))
    }

    /// The support model: learned from the labelled support chats alone, so it knows their kind of anger best
    /// ("I'm not going to ask again nicely."). Read from `MoodSupportModelWeights.swift` (trained at first use if
    /// those are out of date).
    static let support = shippedSupport ?? MoodModel(examples: MoodTrainingData.examples)

    static var shippedSupport: MoodModel? {
        guard MoodSupportModelWeights.fingerprint == fingerprint(of: MoodTrainingData.examples) else { return nil }
        return MoodModel(encoded: MoodSupportModelWeights.encoded,
                         bias: Double(bitPattern: MoodSupportModelWeights.bias))
    }

    /// Trains the general model from `generalExamples` (GoEmotions' training split, then BANKING77's questions as
    /// calm) and the support chats.
    static func trainGeneral(on generalExamples: [(text: String, angry: Bool)]) -> MoodModel {
        let support = MoodTrainingData.examples
        return MoodModel(examples: generalExamples + support,
                         sampleWeights: [Double](repeating: 1, count: generalExamples.count)
                            + [Double](repeating: supportWeight, count: support.count),
                         minimumDocuments: generalMinimumDocuments)
    }

    /// In the general model a support chat counts as much as this many general messages: they are few, and they
    /// are the kind of message the bot reads.
    static let supportWeight = 10.0

    static let gramSizes = 2...5
    static let iterations = 300
    static let c = 4.0
    /// In the general model, n-grams in fewer messages than this are left out.
    static let generalMinimumDocuments = 10
    /// Changes whenever training changes in a way the data and settings above do not show.
    static let trainingRevision = 2

    /// FNV-1a (64 bits) over the settings and every example: which data the weights were learned from.
    static func fingerprint(of examples: [(text: String, angry: Bool)]) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            value = (value ^ 0xFF) &* 0x0000_0100_0000_01b3
        }
        add("revision \(trainingRevision) grams \(gramSizes) iterations \(iterations) c \(c) "
            + "minimum \(generalMinimumDocuments) support \(supportWeight) count \(examples.count)")
        for example in examples { add((example.angry ? "1 " : "0 ") + example.text) }
        return String(value, radix: 16)
    }

    /// Trains on `examples`: n-grams seen in fewer than `minimumDocuments` of them are left out of the vocabulary
    /// (a large general set has many n-grams too rare to learn from).
    init(examples: [(text: String, angry: Bool)], sampleWeights: [Double]? = nil,
         iterations: Int = MoodModel.iterations, c: Double = MoodModel.c, minimumDocuments: Int = 1) {
        // Vocabulary and document frequencies.
        var frequency: [UInt64: Int] = [:]
        if minimumDocuments > 1 {
            for example in examples {
                for gram in Set(Self.wordGrams(example.text).flatMap(\.1)) { frequency[gram, default: 0] += 1 }
            }
        }
        var vocabulary: [UInt64: Int] = [:]
        var documentFrequency: [Int] = []
        var documents: [[Int: Int]] = []
        documents.reserveCapacity(examples.count)
        for example in examples {
            var counts: [Int: Int] = [:]
            for (_, grams) in Self.wordGrams(example.text) {
                for gram in grams {
                    let index: Int
                    if let known = vocabulary[gram] {
                        index = known
                    } else {
                        guard minimumDocuments <= 1 || frequency[gram, default: 0] >= minimumDocuments else { continue }
                        index = vocabulary.count
                        vocabulary[gram] = index
                        documentFrequency.append(0)
                    }
                    if counts[index] == nil { documentFrequency[index] += 1 }
                    counts[index, default: 0] += 1
                }
            }
            documents.append(counts)
        }
        let n = Double(examples.count)
        let idf = documentFrequency.map { log((1 + n) / (1 + Double($0))) + 1 }
        let rows = documents.map { Self.vector($0, idf: idf) }
        let (w, b) = Self.fit(rows: rows, labels: examples.map(\.angry), sampleWeights: sampleWeights,
                              features: vocabulary.count, start: ([Double](repeating: 0, count: vocabulary.count), 0),
                              prior: nil, lambda: 1 / (c * (sampleWeights?.reduce(0, +) ?? n)),
                              iterations: iterations)
        var grams = [UInt64](repeating: 0, count: vocabulary.count)
        for (gram, index) in vocabulary { grams[index] = gram }
        // Built from a dictionary's keys, so no gram is there twice.
        self.vocabulary = GramTable(grams: grams)!
        self.idf = idf
        self.weights = w
        self.bias = b
    }

    private init(vocabulary: GramTable, idf: [Double], weights: [Double], bias: Double) {
        self.vocabulary = vocabulary
        self.idf = idf
        self.weights = weights
        self.bias = bias
    }

    /// This model taught the messages of one shop: `calm` are questions its customers ask (its knowledge base's
    /// examples), `anchor` labelled support chats, so it does not forget what anger in a support chat looks like.
    /// The vocabulary stays; the weights move from these ones only as far as the new messages need (a penalty
    /// pulls them back), so the general sense of anger learned from many messages stays.
    func adapted(calm: [String], anchor: [(text: String, angry: Bool)]) -> MoodModel {
        adapted(examples: anchor.map { (Self.gramHashes($0.text), $0.angry) } + calm.map { (Self.gramHashes($0), false) })
    }

    /// `adapted(calm:anchor:)` for messages already split into n-gram hashes (`gramHashes`), the anchor first.
    func adapted(examples: [(grams: [UInt64], angry: Bool)]) -> MoodModel {
        guard examples.contains(where: { !$0.angry }) else { return self }
        // Only the features these messages have can move (the penalty holds the others where they are), so the
        // fit runs over those alone.
        var compact: [Int: Int] = [:]
        var active: [Int] = []
        let rows = examples.map { example -> [(Int, Double)] in
            var counts: [Int: Int] = [:]
            for gram in example.grams { if let index = vocabulary[gram] { counts[index, default: 0] += 1 } }
            return Self.vector(counts, idf: idf).map { index, x in
                if let known = compact[index] { return (known, x) }
                compact[index] = active.count
                active.append(index)
                return (active.count - 1, x)
            }
        }
        let prior = active.map { weights[$0] }
        let (w, b) = Self.fit(rows: rows, labels: examples.map(\.angry), features: active.count,
                              start: (prior, bias), prior: prior, lambda: Self.adaptationPull,
                              iterations: Self.adaptationIterations)
        var adapted = weights
        for (compactIndex, index) in active.enumerated() { adapted[index] = w[compactIndex] }
        return MoodModel(vocabulary: vocabulary, idf: idf, weights: adapted, bias: b)
    }

    /// How hard adapting pulls the weights back to the general ones, and how long it runs.
    static let adaptationPull = 0.002
    static let adaptationIterations = 60

    /// Regularised logistic loss with balanced classes (each class counts as much as the other), minimised by
    /// Nesterov-accelerated gradient descent from `start`; rows are unit length, so a fixed step is safe. The
    /// penalty pulls the weights towards `prior` (towards zero without one).
    private static func fit(rows: [[(Int, Double)]], labels angry: [Bool], sampleWeights: [Double]? = nil,
                            features: Int, start: (weights: [Double], bias: Double), prior: [Double]?,
                            lambda: Double, iterations: Int) -> ([Double], Double) {
        let sample = sampleWeights ?? [Double](repeating: 1, count: rows.count)
        let n = sample.reduce(0, +)
        let labels = angry.map { $0 ? 1.0 : 0.0 }
        let positives = max(1, zip(labels, sample).reduce(0) { $0 + ($1.0 == 1 ? $1.1 : 0) })
        let negatives = max(1, n - positives)
        let classWeight = zip(labels, sample).map { $0 == 1 ? $1 * n / (2 * positives) : $1 * n / (2 * negatives) }
        let hasPrior = prior != nil
        // Rows laid out flat (the same order of terms, so the same sums to the last bit), read through unsafe
        // buffers: this loop is most of the time an engine takes to adapt the models, and it runs in debug builds too.
        var offsets = [0]
        offsets.reserveCapacity(rows.count + 1)
        var columns: [Int] = []
        var values: [Double] = []
        for row in rows {
            for (j, x) in row {
                columns.append(j)
                values.append(x)
            }
            offsets.append(columns.count)
        }
        var w = start.weights
        var b = start.bias
        var previousW = w
        var previousB = b
        let step = 2.0
        var lookW = w
        var gradient = [Double](repeating: 0, count: features)
        let priorWeights = prior ?? [Double](repeating: 0, count: features)
        columns.withUnsafeBufferPointer { columns in
        values.withUnsafeBufferPointer { values in
        offsets.withUnsafeBufferPointer { offsets in
        classWeight.withUnsafeBufferPointer { classWeight in
        labels.withUnsafeBufferPointer { labels in
        priorWeights.withUnsafeBufferPointer { prior in
            for iteration in 0..<iterations {
                let momentum = Double(iteration) / Double(iteration + 3)
                let lookB = b + momentum * (b - previousB)
                var gradientB = 0.0
                w.withUnsafeBufferPointer { w in
                previousW.withUnsafeBufferPointer { previousW in
                lookW.withUnsafeMutableBufferPointer { lookW in
                gradient.withUnsafeMutableBufferPointer { gradient in
                    for j in 0..<features { lookW[j] = w[j] + momentum * (w[j] - previousW[j]) }
                    for j in 0..<features { gradient[j] = 0 }
                    for i in 0..<(offsets.count - 1) {
                        var z = lookB
                        for k in offsets[i]..<offsets[i + 1] { z += lookW[columns[k]] * values[k] }
                        let error = classWeight[i] * (Self.sigmoid(z) - labels[i]) / n
                        for k in offsets[i]..<offsets[i + 1] { gradient[columns[k]] += error * values[k] }
                        gradientB += error
                    }
                }
                }
                }
                }
                swap(&previousW, &w)
                previousB = b
                w.withUnsafeMutableBufferPointer { w in
                lookW.withUnsafeBufferPointer { lookW in
                gradient.withUnsafeBufferPointer { gradient in
                    if hasPrior {
                        for j in 0..<features {
                            w[j] = lookW[j] - step * (gradient[j] + lambda * (lookW[j] - prior[j]))
                        }
                    } else {
                        for j in 0..<features { w[j] = lookW[j] - step * (gradient[j] + lambda * lookW[j]) }
                    }
                }
                }
                }
                b = lookB - step * gradientB
            }
        }
        }
        }
        }
        }
        }
        return (w, b)
    }

    /// The probability that the message is angry, and the words that pushed it up most.
    /// - Parameter explainingFrom: the words that pushed hardest are worked out only when the probability is at
    ///   least this (the caller uses them only then); below it, `words` is empty.
    func read(_ text: String, explainingFrom: Double = 0) -> (probability: Double, words: [String]) {
        var indices: [Int] = []
        for gram in Self.gramHashes(text) { if let index = vocabulary[gram] { indices.append(index) } }
        let row = Self.vector(sortedIndices: indices.sorted(), idf: idf)
        var z = bias
        for (j, x) in row { z += weights[j] * x }
        let probability = Self.sigmoid(z)
        guard probability >= explainingFrom else { return (probability, []) }
        // Which words pushed hardest: worked out only now (most messages are well under).
        var perWord: [(word: String, indices: [Int])] = []
        for (word, grams) in Self.wordGrams(text) { perWord.append((word, grams.compactMap { vocabulary[$0] })) }
        var contribution: [Int: Double] = [:]
        for (j, x) in row { contribution[j] = weights[j] * x }
        var byWord: [String: Double] = [:]
        for (word, indices) in perWord {
            // Sorted, so the sums (and so the order of close words) are the same in every process.
            for index in Set(indices).sorted() { byWord[word, default: 0] += contribution[index] ?? 0 }
        }
        let top = byWord.filter { $0.value > 0 }.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(3).map(\.key)
        return (probability, Array(top))
    }

    /// Each whitespace-separated word (lower case, punctuation kept) with its padded character n-grams, each
    /// n-gram as a 64-bit FNV-1a hash of its scalars (no string is built per n-gram).
    static func wordGrams(_ text: String) -> [(String, [UInt64])] {
        var padded: [UInt32] = []
        return text.lowercased().split(whereSeparator: { $0.isWhitespace }).map { word in
            var grams: [UInt64] = []
            grams.reserveCapacity((word.unicodeScalars.count + 2) * gramSizes.count)
            appendGrams(of: word, to: &grams, padded: &padded)
            return (String(word), grams)
        }
    }

    /// The n-gram hashes of `wordGrams`, in the same order, without the words: what adapting needs.
    static func gramHashes(_ text: String) -> [UInt64] {
        var grams: [UInt64] = []
        var padded: [UInt32] = []
        for word in text.lowercased().split(whereSeparator: { $0.isWhitespace }) {
            appendGrams(of: word, to: &grams, padded: &padded)
        }
        return grams
    }

    /// One word's n-gram hashes, padded with a space each side; `padded` is scratch space kept between words.
    private static func appendGrams(of word: Substring, to grams: inout [UInt64], padded: inout [UInt32]) {
        padded.removeAll(keepingCapacity: true)
        padded.append(32)
        for scalar in word.unicodeScalars { padded.append(scalar.value) }
        padded.append(32)
        padded.withUnsafeBufferPointer { padded in
            for size in gramSizes {
                if padded.count < size {
                    if size == gramSizes.lowerBound { grams.append(hash(padded[...])) }
                    continue
                }
                for start in 0...(padded.count - size) { grams.append(hash(padded[start..<(start + size)])) }
            }
        }
    }

    private static func hash(_ scalars: Slice<UnsafeBufferPointer<UInt32>>) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for scalar in scalars {
            value = (value ^ UInt64(scalar)) &* 0x0000_0100_0000_01b3
        }
        return value
    }

    /// Sublinear TF × IDF, scaled to unit length; sorted by feature for a fixed summation order.
    /// `vector(_:idf:)` for the indices of a message's n-grams, sorted (an index once per occurrence): the same row,
    /// without a dictionary of counts.
    private static func vector(sortedIndices: [Int], idf: [Double]) -> [(Int, Double)] {
        var row: [(Int, Double)] = []
        var start = 0
        while start < sortedIndices.count {
            let index = sortedIndices[start]
            var end = start + 1
            while end < sortedIndices.count, sortedIndices[end] == index { end += 1 }
            row.append((index, (1 + log(Double(end - start))) * idf[index]))
            start = end
        }
        let norm = sqrt(row.reduce(0) { $0 + $1.1 * $1.1 })
        if norm > 0 { row = row.map { ($0.0, $0.1 / norm) } }
        return row
    }

    private static func vector(_ counts: [Int: Int], idf: [Double]) -> [(Int, Double)] {
        var row = counts.map { ($0.key, (1 + log(Double($0.value))) * idf[$0.key]) }.sorted { $0.0 < $1.0 }
        let norm = sqrt(row.reduce(0) { $0 + $1.1 * $1.1 })
        if norm > 0 { row = row.map { ($0.0, $0.1 / norm) } }
        return row
    }

    private static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
}
