/// A linear model over the matcher's TF-IDF features, one weight per (feature, intent), trained with the
/// averaged perceptron in a fixed order: deterministic, fast to train, and explainable (a word's weight for
/// an intent can be printed). It learns which words tell near-identical intents apart, which plain
/// similarity cannot.
struct IntentClassifier: Sendable, Equatable {
    /// Compressed rows: weights of feature f are at rowStart[f]..<rowStart[f+1].
    let rowStart: [Int32]
    let rowIntent: [Int32]
    let rowWeight: [Float]

    /// A classifier learned before (`MatcherLearning`).
    init(rowStart: [Int32], rowIntent: [Int32], rowWeight: [Float]) {
        self.rowStart = rowStart
        self.rowIntent = rowIntent
        self.rowWeight = rowWeight
    }

    /// Whether its rows are whole for this many features and intents (so `score` reads no further than they go).
    func fits(featureCount: Int, intentCount: Int) -> Bool {
        guard rowStart.count == featureCount + 1, rowStart.first == 0, rowIntent.count == rowWeight.count,
              rowStart.last.map(Int.init) == rowIntent.count else { return false }
        for (start, end) in zip(rowStart, rowStart.dropFirst()) where start > end { return false }
        return rowIntent.allSatisfy { $0 >= 0 && Int($0) < intentCount }
    }

    /// - Parameters:
    ///   - vectors: unit-length example vectors as (feature, weight), sorted by feature.
    ///   - labels: the intent of each example.
    init(vectors: [[(Int32, Float)]], labels: [Int32], intentCount: Int, featureCount: Int, epochs: Int) {
        let count = featureCount * intentCount
        var weights = [Float](repeating: 0, count: count)
        var totals = [Float](repeating: 0, count: count)   // for averaging: Σ over updates of step × change
        var scores = [Float](repeating: 0, count: intentCount)
        var order = Array(vectors.indices)
        var generator = SplitMix64(seed: 0x5EED)
        var step: Float = 1
        // The hot loops run on raw buffers, without bounds checks, so they vectorise across intents (each intent's
        // sum still adds up in the same order: the same weights to the last bit).
        weights.withUnsafeMutableBufferPointer { weights in
            totals.withUnsafeMutableBufferPointer { totals in
                scores.withUnsafeMutableBufferPointer { scores in
                    for _ in 0..<max(1, epochs) {
                        generator.shuffle(&order)
                        for (position, index) in order.enumerated() {
                            if position & 31 == 0 { BuildPacer.breathe() }
                            let vector = vectors[index]
                            let truth = Int(labels[index])
                            for c in 0..<intentCount { scores[c] = 0 }
                            for (feature, value) in vector {
                                let row = weights.baseAddress! + Int(feature) * intentCount
                                for c in 0..<intentCount { scores[c] += value * row[c] }
                            }
                            var predicted = truth == 0 ? 1 : 0
                            for c in 0..<intentCount where c != truth && scores[c] > scores[predicted] { predicted = c }
                            // Update when the right intent does not win by a margin.
                            if intentCount > 1 && scores[truth] - scores[predicted] < 0.1 {
                                for (feature, value) in vector {
                                    let base = Int(feature) * intentCount
                                    weights[base + truth] += value
                                    totals[base + truth] += step * value
                                    weights[base + predicted] -= value
                                    totals[base + predicted] -= step * value
                                }
                            }
                            step += 1
                        }
                    }
                }
            }
        }
        var rowStart: [Int32] = [0]
        var rowIntent: [Int32] = []
        var rowWeight: [Float] = []
        for feature in 0..<featureCount {
            let base = feature * intentCount
            for c in 0..<intentCount {
                let averaged = weights[base + c] - totals[base + c] / step
                if averaged != 0 {
                    rowIntent.append(Int32(c))
                    rowWeight.append(averaged)
                }
            }
            rowStart.append(Int32(rowIntent.count))
        }
        self.rowStart = rowStart
        self.rowIntent = rowIntent
        self.rowWeight = rowWeight
    }

    /// Adds each intent's linear score for a query vector into `scores` (length `intentCount`).
    func score(_ query: [(Int32, Float)], into scores: inout [Float]) {
        for (feature, value) in query {
            let start = Int(rowStart[Int(feature)]), end = Int(rowStart[Int(feature) + 1])
            for p in start..<end { scores[Int(rowIntent[p])] += value * rowWeight[p] }
        }
    }
}
