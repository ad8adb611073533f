import Yams

/// A conversation test from `intents/tests/*.yml`: what the customer says, step by step, and what must happen.
public struct ConversationTest: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public enum Input: Sendable, Equatable {
            case say(String)
            case choose(Int)
        }

        public var input: Input
        public var intent: String?
        /// "answer", "clarify", "fallback" or "handoff".
        public var action: String?
        /// Text the reply must contain (case-insensitive).
        public var contains: [String]
        /// For handoffs: the reason the policy must give.
        public var reason: String?
        public var location: SourceLocation
    }

    public var name: String
    public var steps: [Step]
    public var location: SourceLocation
}

/// One step that did not go as the test says.
public struct ConversationFailure: Sendable, Equatable {
    public var test: String
    public var step: Int
    public var location: SourceLocation
    public var input: String
    public var problems: [String]
    /// What the bot did: action, intent, confidence, reply text.
    public var actual: String
    /// The matcher's top candidates, for seeing why.
    public var candidates: [String]
}

public enum ConversationTests {
    public static let folder = "intents/tests/"
    static let actions: Set<String> = ["answer", "clarify", "fallback", "handoff"]
    static let stepKeys: Set<String> = ["say", "choose", "intent", "action", "contains", "reason"]

    /// Reads every `intents/tests/*.yml` of the knowledge base; problems come back with file and line.
    public static func parse(_ knowledgeBase: KnowledgeBase) -> (tests: [ConversationTest], issues: [KnowledgeIssue]) {
        var tests: [ConversationTest] = []
        var issues: [KnowledgeIssue] = []
        for path in knowledgeBase.files.keys.sorted()
        where path.hasPrefix(folder) && (path.hasSuffix(".yml") || path.hasSuffix(".yaml")) {
            let text = knowledgeBase.files[path] ?? ""
            let root: Node?
            do {
                root = try KnowledgeLimits.compose(text)
            } catch let error as KnowledgeLimits.TooMuchYAML {
                issues.append(KnowledgeIssue(SourceLocation(file: path, line: error.line), error.message))
                continue
            } catch {
                issues.append(KnowledgeIssue(SourceLocation(file: path), "this is not valid YAML: \(error)"))
                continue
            }
            guard let list = root?.sequence else {
                if root != nil {
                    issues.append(KnowledgeIssue(SourceLocation(file: path), "a tests file must be a list of tests"))
                }
                continue
            }
            for node in list {
                let location = SourceLocation(file: path, line: node.mark.map { $0.line })
                guard let mapping = node.mapping, let name = mapping["name"]?.string, !name.isEmpty else {
                    issues.append(KnowledgeIssue(location, "each test needs a `name:` and `steps:`"))
                    continue
                }
                guard let stepNodes = mapping["steps"]?.sequence, stepNodes.count > 0 else {
                    issues.append(KnowledgeIssue(location, "test \"\(name)\" has no `steps:`"))
                    continue
                }
                var steps: [ConversationTest.Step] = []
                for stepNode in stepNodes {
                    if let step = parseStep(stepNode, file: path, test: name, issues: &issues) { steps.append(step) }
                }
                if steps.count == stepNodes.count {
                    tests.append(ConversationTest(name: name, steps: steps, location: location))
                }
            }
        }
        return (tests, issues)
    }

    private static func parseStep(_ node: Node, file: String, test: String,
                                  issues: inout [KnowledgeIssue]) -> ConversationTest.Step? {
        let location = SourceLocation(file: file, line: node.mark.map { $0.line })
        guard let mapping = node.mapping else {
            issues.append(KnowledgeIssue(location, "a step must be like `- say: where is my order`"))
            return nil
        }
        for (key, _) in mapping where !stepKeys.contains(key.string ?? "") {
            issues.append(KnowledgeIssue(location, "unknown field '\(key.string ?? "")' in a step of \"\(test)\"; "
                                         + "use say or choose, and intent, action, contains, reason"))
            return nil
        }
        let input: ConversationTest.Step.Input
        switch (mapping["say"]?.string, mapping["choose"]?.int) {
        case (let text?, nil): input = .say(text)
        case (nil, let option?): input = .choose(option)
        default:
            issues.append(KnowledgeIssue(location, "a step of \"\(test)\" needs exactly one of `say:` or `choose:` (a number)"))
            return nil
        }
        let action = mapping["action"]?.string
        if let action, !actions.contains(action) {
            issues.append(KnowledgeIssue(location, "action '\(action)' is not one of answer, clarify, fallback, handoff"))
            return nil
        }
        let reason = mapping["reason"]?.string
        if let reason, HandoffReason(rawValue: reason) == nil {
            issues.append(KnowledgeIssue(location, "reason '\(reason)' is not one of "
                                         + HandoffReason.allCases.map(\.rawValue).joined(separator: ", ")))
            return nil
        }
        var contains: [String] = []
        if let node = mapping["contains"] {
            contains = node.sequence.map { $0.compactMap(\.string) } ?? [node.string].compactMap { $0 }
        }
        return ConversationTest.Step(input: input, intent: mapping["intent"]?.string, action: action,
                                     contains: contains, reason: reason, location: location)
    }

    /// Runs each test as one fresh conversation with the engine; returns every failing step.
    /// Intents a test names must exist: a misspelt id is a failure, not a silent pass.
    public static func run(_ tests: [ConversationTest], engine: SupportEngine) -> [ConversationFailure] {
        var failures: [ConversationFailure] = []
        for test in tests {
            var context = DialogueContext()
            for (index, step) in test.steps.enumerated() {
                let turn: BotTurn
                let said: String
                switch step.input {
                case .say(let text):
                    turn = engine.respond(to: text, context: &context)
                    said = "said \"\(text)\""
                case .choose(let option):
                    turn = engine.respond(choosing: option, context: &context)
                    said = "chose option \(option)"
                }
                let reply = turn.reply
                let action = turn.handoff == nil ? reply.action.rawValue : "handoff"
                // As in the server: after a handoff the conversation starts again (here without a person).
                if turn.handoff != nil { context.handOff() }
                var problems: [String] = []
                if let intent = step.intent {
                    if engine.knowledgeBase.intent(intent) == nil {
                        problems.append("the test names intent \(intent), which does not exist")
                    } else if reply.intent != intent {
                        problems.append("expected intent \(intent), got \(reply.intent ?? "none")")
                    }
                }
                if let expected = step.action, expected != action {
                    problems.append("expected action \(expected), got \(action)")
                }
                if let reason = step.reason, turn.handoff?.reason.rawValue != reason {
                    problems.append("expected handoff reason \(reason), got \(turn.handoff?.reason.rawValue ?? "no handoff")")
                }
                let lowered = reply.text.lowercased()
                for piece in step.contains where !lowered.contains(piece.lowercased()) {
                    problems.append("expected the reply to contain \"\(piece)\"")
                }
                guard !problems.isEmpty else { continue }
                let candidates = (reply.match?.candidates ?? []).prefix(3).map {
                    "\($0.intent) \(String(format: "%.2f", $0.score))"
                }
                failures.append(ConversationFailure(
                    test: test.name, step: index + 1, location: step.location, input: said, problems: problems,
                    actual: "\(action) \(reply.intent ?? "-") \(String(format: "%.2f", reply.confidence)): "
                        + "\"\(KnowledgeLinter.shorten(reply.text))\"",
                    candidates: Array(candidates)))
            }
        }
        return failures
    }
}
