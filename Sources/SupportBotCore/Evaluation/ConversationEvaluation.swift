import Foundation
import Yams

/// Whole conversations as the unit of measure: files of conversations in the `kb test` shape, each turn with what a
/// careful support lead would want (`expect:`), scored turn by turn and conversation by conversation.
///
/// ```yaml
/// - name: delivery cost, then Germany
///   when: away            # optional: open (default) or away (the team is out of hours)
///   steps:
///     - say: how much is delivery
///       expect: answer shipping.cost
///     - say: and to germany?
///       expect: answer shipping.international or shipping.cost
/// ```
public struct ScriptedConversation: Sendable, Equatable {
    public enum Expectation: Sendable, Equatable, CustomStringConvertible {
        /// Answer with one of these topics.
        case answer([String])
        /// Ask what the customer means (offer choices): the bot's "Did you mean…?".
        case ask
        /// Pass the chat to a person now.
        case handoff
        /// Say honestly that this is not something the bot can help with.
        case fallback
        /// Carry on politely: any reply that is neither a handoff nor "I didn't get that".
        case stay

        public var description: String {
            switch self {
            case .answer(let topics): return "answer " + topics.joined(separator: " or ")
            case .ask: return "ask"
            case .handoff: return "handoff"
            case .fallback: return "fallback"
            case .stay: return "stay"
            }
        }

        static func parse(_ text: String) -> Expectation? {
            let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let first = words.first?.lowercased() else { return nil }
            switch (first, words.count) {
            case ("ask", 1): return .ask
            case ("handoff", 1): return .handoff
            case ("fallback", 1): return .fallback
            case ("stay", 1): return .stay
            case ("answer", _) where words.count >= 2:
                let topics = words.dropFirst().filter { $0.lowercased() != "or" }
                return topics.isEmpty ? nil : .answer(topics)
            default: return nil
            }
        }
    }

    public struct Turn: Sendable, Equatable {
        public var input: ConversationTest.Step.Input
        public var expect: Expectation
        public var location: SourceLocation
    }

    public var name: String
    /// Whether the team is out of hours in this conversation.
    public var away: Bool
    public var turns: [Turn]
    public var location: SourceLocation
}

/// What `supportbot eval --conversations` prints.
public struct ConversationReport: Sendable {
    public struct TurnResult: Sendable {
        public var input: String
        public var expected: ScriptedConversation.Expectation
        /// answer / clarify / fallback / handoff, with the topic for an answer.
        public var action: String
        public var intent: String?
        public var handoffReason: String?
        /// The reply offered a person ("Talk to a person").
        public var offeredPerson: Bool = false
        public var right: Bool
    }

    public struct ConversationResult: Sendable {
        public var conversation: ScriptedConversation
        /// The turns the bot took part in: the conversation stops at the first handoff (a person takes over).
        public var turns: [TurnResult]
        public var outcome: Outcome
    }

    /// How one conversation ended, from the customer's side.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Every turn went as the customer needed, without a person.
        case resolved
        /// Handed to a person when it was wanted.
        case handedOff = "handed_off"
        /// Handed to a person when no turn so far called for it.
        case wrongHandoff = "wrong_handoff"
        /// A turn that called for a person got none.
        case missedHandoff = "missed_handoff"
        /// The last turn went wrong, but offered a person: the customer has a way on, if not the answer.
        case offeredPerson = "offered_person"
        /// The last turn left the customer without an answer or a way on ("I didn't get that", a wrong topic).
        case deadEnd = "dead_end"
        /// Ended well, with a wrong turn on the way.
        case bumpy
    }

    public var conversations: [ConversationResult]

    public var turnCount: Int { conversations.reduce(0) { $0 + $1.turns.count } }
    public var turnsRight: Int { conversations.reduce(0) { $0 + $1.turns.filter(\.right).count } }
    public func count(_ outcome: Outcome) -> Int { conversations.filter { $0.outcome == outcome }.count }
}

public enum ConversationEvaluation {
    static let conversationKeys: Set<String> = ["name", "when", "steps"]
    static let turnKeys: Set<String> = ["say", "choose", "expect"]

    /// Parses one conversations file; problems come back with the file and line.
    public static func parse(_ text: String, file: String) -> (conversations: [ScriptedConversation],
                                                               issues: [KnowledgeIssue]) {
        var conversations: [ScriptedConversation] = []
        var issues: [KnowledgeIssue] = []
        let root: Node?
        do {
            root = try KnowledgeLimits.compose(text)
        } catch let error as KnowledgeLimits.TooMuchYAML {
            return ([], [KnowledgeIssue(SourceLocation(file: file, line: error.line), error.message)])
        } catch {
            return ([], [KnowledgeIssue(SourceLocation(file: file), "this is not valid YAML: \(error)")])
        }
        guard let list = root?.sequence else {
            return ([], [KnowledgeIssue(SourceLocation(file: file), "a conversations file must be a list of conversations")])
        }
        for node in list {
            let location = SourceLocation(file: file, line: node.mark.map { $0.line })
            guard let mapping = node.mapping, let name = mapping["name"]?.string, !name.isEmpty,
                  let stepNodes = mapping["steps"]?.sequence, !stepNodes.isEmpty else {
                issues.append(KnowledgeIssue(location, "each conversation needs a `name:` and `steps:`"))
                continue
            }
            if let unknown = mapping.keys.compactMap(\.string).first(where: { !conversationKeys.contains($0) }) {
                issues.append(KnowledgeIssue(location, "unknown field '\(unknown)' in \"\(name)\"; use name, when, steps"))
                continue
            }
            let when = mapping["when"]?.string ?? "open"
            guard when == "open" || when == "away" else {
                issues.append(KnowledgeIssue(location, "`when:` of \"\(name)\" must be open or away, not '\(when)'"))
                continue
            }
            var turns: [ScriptedConversation.Turn] = []
            for stepNode in stepNodes {
                let stepLocation = SourceLocation(file: file, line: stepNode.mark.map { $0.line })
                guard let step = stepNode.mapping,
                      step.keys.compactMap(\.string).allSatisfy({ turnKeys.contains($0) }) else {
                    issues.append(KnowledgeIssue(stepLocation, "a step of \"\(name)\" must be like `- say: …` with "
                                                 + "`expect: answer TOPIC`, `ask`, `handoff`, `fallback` or `stay`"))
                    continue
                }
                let input: ConversationTest.Step.Input
                switch (step["say"]?.string, step["choose"]?.int) {
                case (let text?, nil): input = .say(text)
                case (nil, let option?): input = .choose(option)
                default:
                    issues.append(KnowledgeIssue(stepLocation, "a step of \"\(name)\" needs exactly one of `say:` or "
                                                 + "`choose:` (a number)"))
                    continue
                }
                guard let expectText = step["expect"]?.string,
                      let expect = ScriptedConversation.Expectation.parse(expectText) else {
                    issues.append(KnowledgeIssue(stepLocation, "a step of \"\(name)\" needs `expect:` with answer TOPIC "
                                                 + "(or several: answer a or b), ask, handoff, fallback or stay"))
                    continue
                }
                turns.append(.init(input: input, expect: expect, location: stepLocation))
            }
            if turns.count == stepNodes.count {
                conversations.append(ScriptedConversation(name: name, away: when == "away", turns: turns,
                                                          location: location))
            }
        }
        return (conversations, issues)
    }

    /// Topics the conversations name that the knowledge base does not have, with where they are named.
    public static func unknownTopics(in conversations: [ScriptedConversation],
                                     knowledgeBase: KnowledgeBase) -> [KnowledgeIssue] {
        conversations.flatMap { conversation in
            conversation.turns.flatMap { turn -> [KnowledgeIssue] in
                guard case .answer(let topics) = turn.expect else { return [] }
                return topics.filter { knowledgeBase.intent($0) == nil }.map {
                    KnowledgeIssue(turn.location, "no topic has the id '\($0)'")
                }
            }
        }
    }

    /// Runs each conversation as a fresh chat with the engine, as the server would, up to its first handoff.
    public static func run(_ conversations: [ScriptedConversation], engine: SupportEngine) -> ConversationReport {
        ConversationReport(conversations: conversations.map { conversation in
            var context = DialogueContext()
            var results: [ConversationReport.TurnResult] = []
            for turn in conversation.turns {
                let bot: BotTurn
                let said: String
                switch turn.input {
                case .say(let text):
                    bot = engine.respond(to: text, context: &context)
                    said = text
                case .choose(let option):
                    bot = engine.respond(choosing: option, context: &context)
                    said = "(chose \(option))"
                }
                let action = bot.handoff == nil ? bot.reply.action.rawValue : "handoff"
                results.append(.init(input: said, expected: turn.expect, action: action, intent: bot.reply.intent,
                                     handoffReason: bot.handoff?.reason.rawValue, offeredPerson: bot.reply.offersPerson,
                                     right: isRight(turn.expect, action: action, intent: bot.reply.intent)))
                if bot.handoff != nil { break }
            }
            return .init(conversation: conversation, turns: results, outcome: outcome(of: results))
        })
    }

    static func isRight(_ expected: ScriptedConversation.Expectation, action: String, intent: String?) -> Bool {
        switch expected {
        case .answer(let topics): return action == "answer" && topics.contains(intent ?? "")
        case .ask: return action == "clarify"
        case .handoff: return action == "handoff"
        case .fallback: return action == "fallback"
        case .stay: return action == "answer" || action == "clarify"
        }
    }

    static func outcome(of turns: [ConversationReport.TurnResult]) -> ConversationReport.Outcome {
        guard let last = turns.last else { return .resolved }
        if last.action == "handoff" {
            // Handed off at the first turn that called for it, or at a turn that did not.
            return last.expected == .handoff ? .handedOff : .wrongHandoff
        }
        if turns.contains(where: { $0.expected == .handoff }) { return .missedHandoff }
        if !last.right { return last.offeredPerson ? .offeredPerson : .deadEnd }
        return turns.allSatisfy(\.right) ? .resolved : .bumpy
    }
}
