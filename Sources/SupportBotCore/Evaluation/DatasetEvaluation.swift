/// Measures the engine on a labelled data set: the engine is built from the training rows (one intent per label)
/// and every test row goes through exactly the decisions the server makes (answer, clarify or fallback).
/// Test rows whose label is not a training label (or is `oos`) are out of scope: the right outcome is fallback.
public struct DatasetReport: Sendable {
    public struct Pair: Sendable {
        public var expected: String
        public var got: String
        public var count: Int
    }

    public struct IntentScore: Sendable {
        public var intent: String
        public var accuracy: Double
        public var count: Int
    }

    /// One row per test message: the matcher's top intent, its score and its lead over the runner-up.
    public struct Row: Sendable {
        public var text: String
        public var label: String
        public var inScope: Bool
        public var best: String?
        public var score: Double
        public var lead: Double
        public var action: ReplyAction
        /// The evidence behind the top intent's score: the classifier's probability (and the runner-up's), the
        /// cosine with its closest example, and the similarity part of the score.
        public var probability: Double = 0
        public var runnerUpProbability: Double = 0
        public var closest: Double = 0
        public var similarity: Double = 0
        /// The doubt model's chance that the top intent is wrong (-1 when there is no doubt model).
        public var doubt: Double = -1
        /// Time to reply to this message.
        public var microseconds: Double = 0
    }

    public var rows: [Row] = []
    public var trainExamples = 0
    public var intents = 0
    public var heldOut: [String] = []
    public var testRows = 0
    public var inScopeRows = 0
    public var outOfScopeRows = 0
    /// Right intent answered (in scope) or fallback (out of scope), over all test rows.
    public var accuracy = 0.0
    /// As `accuracy`, but a clarify whose first option is right also counts.
    public var accuracyWithClarifyFirst = 0.0
    public var inScopeAccuracy = 0.0
    public var outOfScopeRecall = 0.0
    public var outOfScopePrecision = 0.0
    public var clarifyRate = 0.0
    /// When the engine clarifies on an in-scope row, how often the right intent is among the options.
    public var clarifyHitRate = 0.0
    public var fallbackRate = 0.0
    public var confusedPairs: [Pair] = []
    public var worstIntents: [IntentScore] = []
    public var buildMilliseconds = 0.0
    public var p50Microseconds = 0.0
    public var p99Microseconds = 0.0
    public var maxMicroseconds = 0.0
}

public enum DatasetEvaluation {
    public static let outOfScopeLabel = "oos"

    /// One intent per label (sorted by label), its rows as examples; `oos` rows and `excluded` labels left out.
    public static func intents(from train: [LabelledText], excluding excluded: Set<String> = []) -> [Intent] {
        var examplesByLabel: [String: [String]] = [:]
        for row in train where row.label != outOfScopeLabel && !excluded.contains(row.label) {
            examplesByLabel[row.label, default: []].append(row.text)
        }
        return examplesByLabel.keys.sorted().map { label in
            Intent(id: label, title: label.replacingOccurrences(of: "_", with: " "),
                   examples: examplesByLabel[label]!, response: .reply(label))
        }
    }

    /// At most `perLabel` rows of each label, picked with `seed` (the same rows on every machine), in the order the
    /// rows came: a few-shot training set ("a shop writes 10 examples per topic"). `oos` rows are kept whole.
    public static func sample(_ rows: [LabelledText], perLabel: Int, seed: UInt64) -> [LabelledText] {
        var positions: [String: [Int]] = [:]
        for (index, row) in rows.enumerated() where row.label != outOfScopeLabel {
            positions[row.label, default: []].append(index)
        }
        var generator = SplitMix64(seed: seed)
        var keep = Set(rows.indices.filter { rows[$0].label == outOfScopeLabel })
        for label in positions.keys.sorted() {
            var picked = positions[label]!
            generator.shuffle(&picked)
            keep.formUnion(picked.prefix(max(0, perLabel)))
        }
        return rows.indices.filter(keep.contains).map { rows[$0] }
    }

    /// - Parameters:
    ///   - holdout: this many training labels (picked with `seed`) are removed, so their test rows become
    ///     out of scope.
    ///   - alwaysAnswer: skip clarify and fallback and always answer the top intent.
    public static func run(train: [LabelledText], test: [LabelledText], holdout: Int = 0, seed: UInt64 = 1,
                           alwaysAnswer: Bool = false, matching: MatchingConfig = MatchingConfig()) -> DatasetReport {
        var report = DatasetReport()
        let labels = Set(train.map(\.label)).subtracting([outOfScopeLabel]).sorted()
        var generator = SplitMix64(seed: seed)
        var shuffled = labels
        generator.shuffle(&shuffled)
        let heldOut = Set(shuffled.prefix(max(0, min(holdout, labels.count - 1))))
        report.heldOut = heldOut.sorted()

        let intents = Self.intents(from: train, excluding: heldOut)
        report.intents = intents.count
        report.trainExamples = intents.reduce(0) { $0 + $1.examples.count }

        let clock = ContinuousClock()
        var engine: SupportEngine?
        let buildTime = clock.measure {
            engine = SupportEngine(knowledgeBase: KnowledgeBase(intents: intents, matching: matching), version: 1)
            // As `serve` does before its first customer: the mood models learn the shop's questions.
            engine?.moodDetector.prepareModels()
        }
        report.buildMilliseconds = buildTime.milliseconds
        guard let engine else { return report }
        let known = Set(intents.map(\.id))

        var correct = 0, correctWithClarify = 0, inScopeRight = 0, oosFallback = 0, fallbacks = 0
        var clarifies = 0, inScopeClarifies = 0, clarifyHits = 0
        var confusion: [String: [String: Int]] = [:]
        var perIntent: [String: (right: Int, total: Int)] = [:]
        var timings: [Double] = []
        timings.reserveCapacity(test.count)

        for row in test {
            let inScope = known.contains(row.label)
            var context = DialogueContext()
            var reply: BotReply?
            let elapsed = clock.measure {
                if alwaysAnswer {
                    let best = engine.matcher.match(row.text, limit: 1).best
                    reply = BotReply(action: best == nil ? .fallback : .answer, text: "", intent: best?.intent,
                                     confidence: best?.score ?? 0, reason: "always answer")
                } else {
                    reply = engine.reply(to: row.text, context: &context)
                }
            }
            timings.append(elapsed.microseconds)
            guard let reply else { continue }
            let match = reply.match ?? MatchResult(tokens: [], candidates: [])
            report.rows.append(.init(text: row.text, label: row.label, inScope: inScope,
                                     best: match.best?.intent ?? reply.intent,
                                     score: match.best?.score ?? reply.confidence, lead: match.lead,
                                     action: reply.action, probability: match.best?.probability ?? 0,
                                     runnerUpProbability: match.candidates.dropFirst().first?.probability ?? 0,
                                     closest: match.best?.closest ?? 0, similarity: match.best?.similarity ?? 0,
                                     doubt: match.doubt ?? -1,
                                     microseconds: elapsed.microseconds))
            if inScope {
                report.inScopeRows += 1
                var entry = perIntent[row.label] ?? (0, 0)
                entry.total += 1
                switch reply.action {
                case .answer where reply.intent == row.label:
                    inScopeRight += 1
                    correct += 1
                    correctWithClarify += 1
                    entry.right += 1
                case .clarify:
                    clarifies += 1
                    inScopeClarifies += 1
                    if reply.options.contains(where: { $0.intent == row.label }) { clarifyHits += 1 }
                    if reply.options.first?.intent == row.label { correctWithClarify += 1 }
                    confusion[row.label, default: [:]][reply.intent ?? "(clarify)", default: 0] += reply.intent == row.label ? 0 : 1
                case .fallback:
                    fallbacks += 1
                    confusion[row.label, default: [:]]["(fallback)", default: 0] += 1
                case .answer:
                    confusion[row.label, default: [:]][reply.intent ?? "-", default: 0] += 1
                }
                perIntent[row.label] = entry
            } else {
                report.outOfScopeRows += 1
                switch reply.action {
                case .fallback:
                    fallbacks += 1
                    oosFallback += 1
                    correct += 1
                    correctWithClarify += 1
                case .clarify:
                    clarifies += 1
                case .answer:
                    break
                }
            }
        }

        report.testRows = test.count
        let total = Double(max(1, test.count))
        report.accuracy = Double(correct) / total
        report.accuracyWithClarifyFirst = Double(correctWithClarify) / total
        report.inScopeAccuracy = report.inScopeRows == 0 ? 0 : Double(inScopeRight) / Double(report.inScopeRows)
        report.outOfScopeRecall = report.outOfScopeRows == 0 ? 0 : Double(oosFallback) / Double(report.outOfScopeRows)
        report.outOfScopePrecision = fallbacks == 0 ? 0 : Double(oosFallback) / Double(fallbacks)
        report.clarifyRate = Double(clarifies) / total
        report.clarifyHitRate = inScopeClarifies == 0 ? 0 : Double(clarifyHits) / Double(inScopeClarifies)
        report.fallbackRate = Double(fallbacks) / total
        report.confusedPairs = confusion.flatMap { expected, gots in
            gots.filter { $0.value > 0 }.map { DatasetReport.Pair(expected: expected, got: $0.key, count: $0.value) }
        }.sorted { ($0.count, $1.expected, $1.got) > ($1.count, $0.expected, $0.got) }.prefix(10).map { $0 }
        report.worstIntents = perIntent.map {
            DatasetReport.IntentScore(intent: $0.key, accuracy: Double($0.value.right) / Double($0.value.total),
                                      count: $0.value.total)
        }.sorted { ($0.accuracy, $0.intent) < ($1.accuracy, $1.intent) }.prefix(10).map { $0 }
        let latency = LatencySummary(timings)
        report.p50Microseconds = latency.p50
        report.p99Microseconds = latency.p99
        report.maxMicroseconds = latency.max
        return report
    }
}

/// A small, seeded random generator so a holdout is the same on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fisher–Yates with this generator: the same seed gives the same order on every platform
    /// (the standard library's `shuffle(using:)` does not promise that).
    mutating func shuffle<T>(_ array: inout [T]) {
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, Int(next() % UInt64(i + 1)))
        }
    }
}

extension Duration {
    /// This duration in microseconds and milliseconds, for timings.
    public var microseconds: Double { Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12 }
    public var milliseconds: Double { microseconds / 1000 }
}
