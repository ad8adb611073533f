import Foundation

/// The facts about one match that tell how far to trust its top intent. They feed the doubt model.
public struct MatchEvidence: Sendable, Equatable {
    /// One value per name in `MatchEvidence.names`, in that order.
    public var values: [Double]

    /// - Parameter plain: the first 22 inputs (up to "classifier score against typical"); squares and products of
    ///   the main ones are added, so a linear model can bend (doubt rises fast once the lead is near 0).
    init(plain: [Double]) {
        let score = plain[0], lead = plain[1], probability = plain[2], classifierLead = plain[12] - plain[13]
        values = plain + [
            score * score, lead * lead, probability * probability, plain[3] * plain[3], plain[4] * plain[4],
            plain[12] * plain[12], plain[13] * plain[13], lead * probability, score * lead, classifierLead,
            classifierLead * classifierLead,
        ]
    }

    public static let names = [
        "score", "lead", "probability", "closest", "similarity", "centroid", "other centroid", "runner-up closest",
        "runner-up similarity", "spread", "intents hit", "known words", "classifier score",
        "runner-up classifier score", "average classifier score", "closest example overall",
        "closest example agrees", "message features", "message words", "classifier agrees",
        "centroid against typical", "classifier score against typical", "score²", "lead²", "probability²",
        "closest²", "similarity²", "classifier score²", "runner-up classifier score²", "lead × probability",
        "score × lead", "classifier lead", "classifier lead²",
    ]
}

/// One input of the doubt model and how hard it pushed a verdict toward doubt (positive) or trust (negative),
/// in log-odds.
public struct DoubtFactor: Sendable, Equatable, Codable {
    public var name: String
    public var value: Double
    public var push: Double
}

/// Judges how likely the top intent of a match is wrong: the question is one the knowledge base does not cover,
/// or the matcher picked the wrong intent. A logistic regression over `MatchEvidence`, learned when the engine is
/// built, from the knowledge base's own examples:
///
/// - The intents are dealt into `folds` groups. For each group, a smaller matcher is built without those intents
///   and without a few examples of every other intent.
/// - The examples of the left-out intents play unknown questions (the answer would be wrong: doubt 1).
/// - The left-out examples of the other intents play known questions (doubt 1 if that matcher gets them wrong,
///   else 0).
///
/// Everything runs in a fixed order with fixed seeds, so a knowledge base always gives the same model. Each input's
/// share of a verdict can be shown (`contributions`).
public struct DoubtModel: Sendable, Equatable {
    /// Mean and spread of each input over the training rows (inputs are scaled before weighting).
    let mean: [Double]
    let spread: [Double]
    let weights: [Double]
    let bias: Double

    static let folds = 8

    /// One mean, spread and weight per input, every spread above 0 (true of every fitted model).
    var isWellFormed: Bool {
        let width = MatchEvidence.names.count
        return mean.count == width && spread.count == width && weights.count == width && spread.allSatisfy { $0 > 0 }
    }
    /// At most this many examples of a left-out intent play unknown questions…
    static let unknownPerIntent = 40
    /// …and at most this many examples of each other intent are held back to play known questions.
    static let knownPerIntent = 16
    /// Fewer rows than this (or fewer than a fifth of it of either kind) teach nothing reliable: no model.
    static let minimumRows = 200
    /// Ridge penalty: keeps weights small when inputs move together.
    static let ridge = 1.0

    /// The chance (0…1, to 3 decimals) that the top intent is wrong, and the `factorCount` inputs that pushed
    /// hardest either way, strongest first.
    public func verdict(_ evidence: MatchEvidence, factorCount: Int = 3) -> (doubt: Double, factors: [DoubtFactor]) {
        // Each input's push toward doubt (positive) or trust (negative), in log-odds.
        let pushes = evidence.values.indices.map { weights[$0] * (evidence.values[$0] - mean[$0]) / spread[$0] }
        let doubt = 1 / (1 + exp(-pushes.reduce(bias, +)))
        var strongest: [Int] = []
        for j in pushes.indices {
            strongest.append(j)
            strongest.sort { abs(pushes[$0]) > abs(pushes[$1]) }
            if strongest.count > factorCount { strongest.removeLast() }
        }
        let factors = strongest.map {
            DoubtFactor(name: MatchEvidence.names[$0], value: evidence.values[$0], push: pushes[$0])
        }
        return ((doubt * 1000).rounded() / 1000, factors)
    }

    /// Starts learning the model for a knowledge base and returns at once; `finish()` waits for it. With
    /// `.allCores` the folds are learned on two threads of their own while the caller builds its matcher; with
    /// `.oneCore` `finish()` learns them on the caller's thread. Nil when the knowledge base is too small to learn
    /// from (fewer than 8 intents that can be asked without context).
    /// - Parameter shared: what the folds' matchers take from the full one (examples already read, the speller).
    static func startTraining(knowledgeBase: KnowledgeBase, shared: Matcher.SharedBuild,
                              build: EngineBuild = .allCores) -> Training? {
        // Follow-ups (`after:`) only compete in context; they sit out the folds.
        let open = knowledgeBase.intents.indices.filter {
            knowledgeBase.intents[$0].after.isEmpty && !knowledgeBase.intents[$0].examples.isEmpty
        }
        guard open.count >= 8 else { return nil }
        var order = open
        var generator = SplitMix64(seed: 0xD0B7)
        generator.shuffle(&order)
        var groups = [Int](repeating: -1, count: knowledgeBase.intents.count)
        for (position, intent) in order.enumerated() { groups[intent] = position % folds }
        let group = groups

        let results = FoldResults(count: folds)
        let learn: @Sendable (Int) -> Void = { lane in
            for fold in stride(from: lane, to: folds, by: 2) {
                results.set(fold, evidenceRows(knowledgeBase: knowledgeBase, shared: shared, group: group, fold: fold))
            }
        }
        switch build {
        case .oneCore:
            return Training(results: results, inline: { learn(0); learn(1) })
        case .allCores:
            // Two threads of their own (not the caller's pool, which may be the server's Swift concurrency threads):
            // one takes the even folds, the other the odd ones. Meanwhile the caller builds its own matcher.
            let training = Training(results: results, inline: nil)
            for lane in 0..<2 {
                training.done.enter()
                Thread {
                    learn(lane)
                    training.done.leave()
                }.start()
            }
            return training
        }
    }

    /// A model being learned.
    final class Training: Sendable {
        private let results: FoldResults
        fileprivate let done = DispatchGroup()
        /// The folds still to learn, on the thread that calls `finish()` (a `.oneCore` build).
        private let inline: (@Sendable () -> Void)?

        fileprivate init(results: FoldResults, inline: (@Sendable () -> Void)?) {
            self.results = results
            self.inline = inline
        }

        /// Waits for the folds and fits the model; nil when there are fewer than `minimumRows` rows (or fewer than
        /// a fifth of that of either kind).
        func finish() -> DoubtModel? {
            inline?()
            done.wait()
            let rows = results.all.flatMap { $0 }
            let doubtful = rows.filter(\.1).count
            guard rows.count >= minimumRows, doubtful >= minimumRows / 5, rows.count - doubtful >= minimumRows / 5 else {
                return nil
            }
            return fit(rows)
        }
    }

    /// The rows of one fold: evidence from a matcher that has never seen them, and whether its top intent is wrong.
    private static func evidenceRows(knowledgeBase: KnowledgeBase, shared: Matcher.SharedBuild,
                                     group: [Int], fold: Int) -> [(MatchEvidence, Bool)] {
        var kept: [Intent] = []
        var questions: [(text: String, intent: String?)] = []   // nil intent: not covered
        for (index, intent) in knowledgeBase.intents.enumerated() {
            if group[index] == fold {
                let step = max(1, intent.examples.count / unknownPerIntent)
                for text in stride(from: 0, to: intent.examples.count, by: step).prefix(unknownPerIntent)
                    .map({ intent.examples[$0] }) {
                    questions.append((text, nil))
                }
                continue
            }
            var trimmed = intent
            if group[index] >= 0 && intent.examples.count >= 3 {
                // Every fifth example (at most `knownPerIntent`), starting at a different place in each fold.
                let held = Set(stride(from: fold % 5, to: intent.examples.count, by: 5).prefix(knownPerIntent))
                trimmed.examples = intent.examples.indices.filter { !held.contains($0) }.map { intent.examples[$0] }
                questions += held.sorted().map { (intent.examples[$0], intent.id) }
            }
            kept.append(trimmed)
        }
        let matcher = Matcher(knowledgeBase: knowledgeBase.replacingIntents(kept), learnsDoubt: false, shared: shared)
        return questions.compactMap { question in
            BuildPacer.breathe()
            guard let (top, evidence) = matcher.evidence(for: question.text) else { return nil }
            return (evidence, question.intent == nil || top != question.intent)
        }
    }

    /// Logistic regression with a ridge penalty, fitted by Newton's method (a fixed number of steps).
    static func fit(_ rows: [(MatchEvidence, Bool)]) -> DoubtModel {
        let width = MatchEvidence.names.count
        let count = Double(rows.count)
        var mean = [Double](repeating: 0, count: width)
        var spread = [Double](repeating: 0, count: width)
        for (evidence, _) in rows { for j in 0..<width { mean[j] += evidence.values[j] / count } }
        for (evidence, _) in rows {
            for j in 0..<width { spread[j] += (evidence.values[j] - mean[j]) * (evidence.values[j] - mean[j]) / count }
        }
        spread = spread.map { $0 > 1e-12 ? $0.squareRoot() : 1 }
        // Scaled inputs with a constant 1 in front for the bias.
        let x: [[Double]] = rows.map { row in [1] + (0..<width).map { (row.0.values[$0] - mean[$0]) / spread[$0] } }
        let y: [Double] = rows.map { $0.1 ? 1 : 0 }
        let n = width + 1
        var beta = [Double](repeating: 0, count: n)
        // The upper triangle of the Hessian, row by row, in one flat buffer (no nested arrays in the hot loop; the
        // sums add up in the same order as ever).
        var upper = [Double](repeating: 0, count: n * n)
        for _ in 0..<25 {
            var gradient = [Double](repeating: 0, count: n)
            for i in upper.indices { upper[i] = 0 }
            upper.withUnsafeMutableBufferPointer { upper in
                for (row, target) in zip(x, y) {
                    var z = 0.0
                    for j in 0..<n { z += beta[j] * row[j] }
                    let p = 1 / (1 + exp(-z))
                    let w = max(p * (1 - p), 1e-9)
                    row.withUnsafeBufferPointer { row in
                        for j in 0..<n {
                            gradient[j] += (p - target) * row[j]
                            let wj = w * row[j]
                            let line = upper.baseAddress! + j * n
                            for k in j..<n { line[k] += wj * row[k] }
                        }
                    }
                }
            }
            var hessian = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            for j in 0..<n {
                for k in j..<n { hessian[j][k] = upper[j * n + k] }
                for k in 0..<j { hessian[j][k] = hessian[k][j] }
                if j > 0 {
                    gradient[j] += ridge * beta[j]
                    hessian[j][j] += ridge
                }
            }
            guard let step = solve(hessian, gradient) else { break }
            var largest = 0.0
            for j in 0..<n {
                beta[j] -= step[j]
                largest = max(largest, abs(step[j]))
            }
            if largest < 1e-7 { break }
        }
        return DoubtModel(mean: mean, spread: spread, weights: Array(beta.dropFirst()), bias: beta[0])
    }

    /// Solves a · s = b by Gaussian elimination with partial pivoting; nil when a is singular.
    private static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var m = a
        var v = b
        let n = b.count
        for column in 0..<n {
            var pivot = column
            for row in column..<n where abs(m[row][column]) > abs(m[pivot][column]) { pivot = row }
            guard abs(m[pivot][column]) > 1e-12 else { return nil }
            m.swapAt(column, pivot)
            v.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = m[row][column] / m[column][column]
                guard factor != 0 else { continue }
                for k in column..<n { m[row][k] -= factor * m[column][k] }
                v[row] -= factor * v[column]
            }
        }
        var s = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var total = v[row]
            for k in (row + 1)..<n { total -= m[row][k] * s[k] }
            s[row] = total / m[row][row]
        }
        return s
    }
}

/// Each fold's rows, filled in by the fold threads.
fileprivate final class FoldResults: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [[(MatchEvidence, Bool)]]

    init(count: Int) { rows = Array(repeating: [], count: count) }

    func set(_ fold: Int, _ value: [(MatchEvidence, Bool)]) { lock.withLock { rows[fold] = value } }

    var all: [[(MatchEvidence, Bool)]] { lock.withLock { rows } }
}
