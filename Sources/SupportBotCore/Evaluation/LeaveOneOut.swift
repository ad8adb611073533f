/// Routes every example of a knowledge base with that example left out of the index, to show how well the
/// intents stand apart. An example "lands" when its own intent ranks first; it is "answered" when the engine's
/// normal decision is a confident answer with its own intent.
public struct LeaveOneOutReport: Sendable {
    public struct Miss: Sendable {
        public var intent: String
        public var example: String
        public var landedOn: String?
        public var score: Double
    }

    /// One row per example: its intent, where it landed, the top score and the lead over the runner-up.
    public struct Row: Sendable {
        public var intent: String
        public var example: String
        public var landedOn: String?
        public var score: Double
        public var lead: Double
    }

    public var rows: [Row] = []
    public var total: Int
    public var landed: Int
    public var answered: Int
    public var misses: [Miss]

    public var landedRate: Double { total == 0 ? 0 : Double(landed) / Double(total) }
    public var answeredRate: Double { total == 0 ? 0 : Double(answered) / Double(total) }
}

public enum LeaveOneOut {
    public static func evaluate(_ engine: SupportEngine) -> LeaveOneOutReport {
        let matcher = engine.matcher
        let config = engine.config
        var landed = 0, answered = 0
        var misses: [LeaveOneOutReport.Miss] = []
        var rows: [LeaveOneOutReport.Row] = []
        let examples = matcher.examples
        for (index, example) in examples.enumerated() {
            // A follow-up example is asked in its context: right after the intent it follows.
            let lastIntent = engine.knowledgeBase.intent(example.intent)?.after.first
            let result = matcher.match(example.text, lastIntent: lastIntent, limit: 2, excludingExample: index)
            let best = result.candidates.first
            let lead = (best?.score ?? 0) - (result.candidates.dropFirst().first?.score ?? 0)
            rows.append(.init(intent: example.intent, example: example.text, landedOn: best?.intent,
                              score: best?.score ?? 0, lead: lead))
            if best?.intent == example.intent {
                landed += 1
                let margin = (best?.score ?? 0) - (result.candidates.dropFirst().first?.score ?? 0)
                if (best?.score ?? 0) >= config.answerThreshold && margin >= config.ambiguityMargin { answered += 1 }
            } else {
                misses.append(.init(intent: example.intent, example: example.text, landedOn: best?.intent,
                                    score: best?.score ?? 0))
            }
        }
        return LeaveOneOutReport(rows: rows, total: examples.count, landed: landed, answered: answered, misses: misses)
    }
}
