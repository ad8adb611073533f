import Foundation

/// A small learned model of angry support messages, next to the word rules: logistic regression over
/// TF-IDF character n-grams (2 to 5 letters, inside words, punctuation kept), trained at first use on the labelled
/// messages in `MoodTrainingData`. It catches anger written without the usual words ("so I just lose £60 then?").
/// Deterministic: the same training data always gives the same weights.
///
/// Training takes seconds in a debug build, so it is not done in every process: the weights are generated with
/// the training data (`MoodModelWeights.swift`, written by `scripts/generate-mood-model.sh`) and read at first use.
/// They carry the fingerprint of the data and settings they were learned from; if the two differ (the data changed
/// and the weights were not written again) the model is trained at first use instead, and a test fails until the
/// weights are written again. Another test trains afresh and checks that it gives the shipped weights to the last bit.
struct MoodModel: Sendable, Equatable {
    private let vocabulary: [UInt64: Int]
    private let idf: [Double]
    private let weights: [Double]
    private let bias: Double

    /// Read from the shipped weights once per process, on first use (trained only if they are out of date).
    static let shared = shipped ?? MoodModel(examples: MoodTrainingData.examples)

    /// The generated weights, when they were learned from the training data compiled in now.
    static var shipped: MoodModel? {
        guard MoodModelWeights.fingerprint == fingerprint(of: MoodTrainingData.examples) else { return nil }
        return MoodModel(encoded: MoodModelWeights.encoded, bias: Double(bitPattern: MoodModelWeights.bias))
    }

    static let gramSizes = 2...5
    static let iterations = 300
    static let c = 4.0
    /// Changes whenever training changes in a way the data and settings above do not show.
    static let trainingRevision = 1

    /// FNV-1a (64 bits) over the settings and every example: which data the weights were learned from.
    static func fingerprint(of examples: [(text: String, angry: Bool)]) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            value = (value ^ 0xFF) &* 0x0000_0100_0000_01b3
        }
        add("revision \(trainingRevision) grams \(gramSizes) iterations \(iterations) c \(c) count \(examples.count)")
        for example in examples { add((example.angry ? "1 " : "0 ") + example.text) }
        return String(value, radix: 16)
    }

    init(examples: [(text: String, angry: Bool)], iterations: Int = MoodModel.iterations, c: Double = MoodModel.c) {
        // Vocabulary and document frequencies.
        var vocabulary: [UInt64: Int] = [:]
        var documentFrequency: [Int] = []
        var documents: [[Int: Int]] = []
        for example in examples {
            var counts: [Int: Int] = [:]
            for (_, grams) in Self.wordGrams(example.text) {
                for gram in grams {
                    let index: Int
                    if let known = vocabulary[gram] {
                        index = known
                    } else {
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
        let labels = examples.map { $0.angry ? 1.0 : 0.0 }
        let positives = max(1, labels.filter { $0 == 1 }.count)
        let negatives = max(1, labels.count - positives)
        // Balanced classes: each class counts as much as the other.
        let classWeight = labels.map { $0 == 1 ? n / (2 * Double(positives)) : n / (2 * Double(negatives)) }

        // Regularised logistic loss, minimised by Nesterov-accelerated gradient descent (rows are unit length,
        // so a fixed step is safe).
        let features = vocabulary.count
        let lambda = 1 / (c * n)
        var w = [Double](repeating: 0, count: features)
        var b = 0.0
        var previousW = w
        var previousB = b
        let step = 2.0
        for iteration in 0..<iterations {
            let momentum = Double(iteration) / Double(iteration + 3)
            var lookW = w
            for j in 0..<features { lookW[j] += momentum * (w[j] - previousW[j]) }
            let lookB = b + momentum * (b - previousB)
            var gradient = [Double](repeating: 0, count: features)
            var gradientB = 0.0
            for (i, row) in rows.enumerated() {
                var z = lookB
                for (j, x) in row { z += lookW[j] * x }
                let error = classWeight[i] * (Self.sigmoid(z) - labels[i]) / n
                for (j, x) in row { gradient[j] += error * x }
                gradientB += error
            }
            previousW = w
            previousB = b
            for j in 0..<features { w[j] = lookW[j] - step * (gradient[j] + lambda * lookW[j]) }
            b = lookB - step * gradientB
        }
        self.vocabulary = vocabulary
        self.idf = idf
        self.weights = w
        self.bias = b
    }

    /// Reads weights written by `encoded`: per feature, its n-gram hash, IDF and weight (little-endian bit patterns).
    init?(encoded: String, bias: Double) {
        guard let data = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), data.count % 24 == 0 else {
            return nil
        }
        let bytes = [UInt8](data)
        let count = bytes.count / 24
        var vocabulary: [UInt64: Int] = [:]
        vocabulary.reserveCapacity(count)
        var idf = [Double](repeating: 0, count: count)
        var weights = [Double](repeating: 0, count: count)
        bytes.withUnsafeBufferPointer { bytes in
            func word(_ offset: Int) -> UInt64 {
                var value: UInt64 = 0
                for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
                return value
            }
            for index in 0..<count {
                vocabulary[word(index * 24)] = index
                idf[index] = Double(bitPattern: word(index * 24 + 8))
                weights[index] = Double(bitPattern: word(index * 24 + 16))
            }
        }
        guard vocabulary.count == count else { return nil }
        self.vocabulary = vocabulary
        self.idf = idf
        self.weights = weights
        self.bias = bias
    }

    /// The weights as base64 text for `MoodModelWeights.swift` (see `init(encoded:bias:)`), in lines of 100.
    var encoded: (text: String, bias: UInt64) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vocabulary.count * 24)
        func append(_ value: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) } }
        for (gram, index) in vocabulary.sorted(by: { $0.value < $1.value }) {
            append(gram)
            append(idf[index].bitPattern)
            append(weights[index].bitPattern)
        }
        let text = Data(bytes).base64EncodedString()
        var lines: [Substring] = []
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(start, offsetBy: 100, limitedBy: text.endIndex) ?? text.endIndex
            lines.append(text[start..<end])
            start = end
        }
        return (lines.joined(separator: "\n"), bias.bitPattern)
    }

    /// The Swift source of `MoodModelWeights.swift` for these weights, learned from `examples`.
    static func weightsSource(for model: MoodModel, examples: [(text: String, angry: Bool)]) -> String {
        let (text, bias) = model.encoded
        let quotes = String(repeating: "\"", count: 3)
        return [
            "// Generated by scripts/generate-mood-model.sh (supportbot mood --write-model) from MoodTrainingData.swift.",
            "// Do not edit by hand: change the training data and run the script again.",
            "",
            "/// The mood model's weights, learned from `MoodTrainingData` (see `MoodModel`).",
            "enum MoodModelWeights {",
            "    /// `MoodModel.fingerprint(of:)` of the data and settings these weights were learned from.",
            "    static let fingerprint = \"\(fingerprint(of: examples))\"",
            "    static let bias: UInt64 = 0x\(String(bias, radix: 16))",
            "    /// \(model.vocabulary.count) features: n-gram hash, IDF and weight, 24 bytes each, in base64.",
            "    static let encoded = " + quotes,
        ].joined(separator: "\n") + "\n"
            + text.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n")
            + "\n        " + quotes + "\n}\n"
    }

    /// The probability that the message is angry, and the words that pushed it up most.
    /// - Parameter explainingFrom: the words that pushed hardest are worked out only when the probability is at
    ///   least this (the caller uses them only then); below it, `words` is empty.
    func read(_ text: String, explainingFrom: Double = 0) -> (probability: Double, words: [String]) {
        var counts: [Int: Int] = [:]
        let words = Self.wordGrams(text)
        var perWord: [(word: String, indices: [Int])] = []
        for (word, grams) in words {
            var indices: [Int] = []
            for gram in grams {
                guard let index = vocabulary[gram] else { continue }
                counts[index, default: 0] += 1
                indices.append(index)
            }
            perWord.append((word, indices))
        }
        let row = Self.vector(counts, idf: idf)
        var z = bias
        for (j, x) in row { z += weights[j] * x }
        let probability = Self.sigmoid(z)
        guard probability >= explainingFrom else { return (probability, []) }
        var contribution: [Int: Double] = [:]
        for (j, x) in row { contribution[j] = weights[j] * x }
        var byWord: [String: Double] = [:]
        for (word, indices) in perWord {
            for index in Set(indices) { byWord[word, default: 0] += contribution[index] ?? 0 }
        }
        let top = byWord.filter { $0.value > 0 }.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(3).map(\.key)
        return (probability, Array(top))
    }

    /// Each whitespace-separated word (lower case, punctuation kept) with its padded character n-grams, each
    /// n-gram as a 64-bit FNV-1a hash of its scalars (no string is built per n-gram).
    static func wordGrams(_ text: String) -> [(String, [UInt64])] {
        text.lowercased().split(whereSeparator: { $0.isWhitespace }).map { word in
            var padded: [UInt32] = [32]
            for scalar in word.unicodeScalars { padded.append(scalar.value) }
            padded.append(32)
            var grams: [UInt64] = []
            grams.reserveCapacity(padded.count * gramSizes.count)
            for size in gramSizes {
                if padded.count < size {
                    if size == gramSizes.lowerBound { grams.append(hash(padded[...])) }
                    continue
                }
                for start in 0...(padded.count - size) { grams.append(hash(padded[start..<(start + size)])) }
            }
            return (String(word), grams)
        }
    }

    private static func hash(_ scalars: ArraySlice<UInt32>) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for scalar in scalars {
            value = (value ^ UInt64(scalar)) &* 0x0000_0100_0000_01b3
        }
        return value
    }

    /// Sublinear TF × IDF, scaled to unit length; sorted by feature for a fixed summation order.
    private static func vector(_ counts: [Int: Int], idf: [Double]) -> [(Int, Double)] {
        var row = counts.map { ($0.key, (1 + log(Double($0.value))) * idf[$0.key]) }.sorted { $0.0 < $1.0 }
        let norm = sqrt(row.reduce(0) { $0 + $1.1 * $1.1 })
        if norm > 0 { row = row.map { ($0.0, $0.1 / norm) } }
        return row
    }

    private static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
}
