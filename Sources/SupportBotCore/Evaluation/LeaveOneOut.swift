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
    /// Every example is routed by an engine that never saw it: the examples are split into `folds` groups
    /// (example i in group i mod folds) and each group is routed by an engine built without it. With a trained
    /// classifier in the engine, removing the example from the index alone would not be enough.
    public static func evaluate(_ engine: SupportEngine, folds: Int = 10) -> LeaveOneOutReport {
        let knowledgeBase = engine.knowledgeBase
        var landed = 0, answered = 0
        var misses: [LeaveOneOutReport.Miss] = []
        var rows: [LeaveOneOutReport.Row] = []
        let examples = knowledgeBase.intents.flatMap { intent in intent.examples.map { (intent: intent, text: $0) } }
        let folds = max(2, min(folds, examples.count))
        for fold in 0..<folds {
            var index = 0
            let trimmed = knowledgeBase.intents.map { intent in
                var copy = intent
                copy.examples = intent.examples.filter { _ in
                    defer { index += 1 }
                    return index % folds != fold
                }
                return copy
            }
            let foldEngine = SupportEngine(knowledgeBase: knowledgeBase.replacingIntents(trimmed), version: engine.version)
            for (position, example) in examples.enumerated() where position % folds == fold {
                // A follow-up example is asked in its context: right after the intent it follows.
                var context = DialogueContext()
                context.lastIntent = example.intent.after.first
                let reply = foldEngine.reply(to: example.text, context: &context)
                let match = reply.match ?? MatchResult(tokens: [], candidates: [])
                let best = match.best
                rows.append(.init(intent: example.intent.id, example: example.text, landedOn: best?.intent,
                                  score: best?.score ?? 0, lead: match.lead))
                if best?.intent == example.intent.id {
                    landed += 1
                    if reply.action == .answer && reply.intent == example.intent.id { answered += 1 }
                } else {
                    misses.append(.init(intent: example.intent.id, example: example.text, landedOn: best?.intent,
                                        score: best?.score ?? 0))
                }
            }
        }
        return LeaveOneOutReport(rows: rows, total: examples.count, landed: landed, answered: answered, misses: misses)
    }
}
