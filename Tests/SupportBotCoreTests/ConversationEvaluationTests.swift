import Foundation
import Testing
@testable import SupportBotCore

@Suite("eval --conversations: conversations as the unit of measure")
struct ConversationEvaluationTests {
    @Test("expectations are read, and every mistake in a file is reported with its line")
    func parsing() {
        let text = """
            - name: good
              when: away
              steps:
                - say: how much is delivery
                  expect: answer shipping.costs or shipping.countries
                - choose: 1
                  expect: ask
            - name: bad expect
              steps:
                - say: hi
                  expect: reply nicely
            - name: bad when
              when: sunday
              steps:
                - say: hi
                  expect: stay
            """
        let (conversations, issues) = ConversationEvaluation.parse(text, file: "c.yml")
        #expect(conversations.count == 1)
        #expect(conversations.first?.away == true)
        #expect(conversations.first?.turns.map(\.expect) == [.answer(["shipping.costs", "shipping.countries"]), .ask])
        #expect(issues.map(\.location.line) == [10, 12])
    }

    @Test("outcomes: resolved, wrong and missed handoffs, dead ends, bumpy")
    func outcomes() {
        func turn(_ expected: ScriptedConversation.Expectation, _ action: String, _ intent: String? = nil)
            -> ConversationReport.TurnResult {
            .init(input: "x", expected: expected, action: action, intent: intent, handoffReason: nil,
                  right: ConversationEvaluation.isRight(expected, action: action, intent: intent))
        }
        let track = ScriptedConversation.Expectation.answer(["orders.track"])
        #expect(ConversationEvaluation.outcome(of: [turn(track, "answer", "orders.track"), turn(.stay, "answer")])
                == .resolved)
        #expect(ConversationEvaluation.outcome(of: [turn(track, "answer", "orders.track"), turn(.stay, "handoff")])
                == .wrongHandoff)
        #expect(ConversationEvaluation.outcome(of: [turn(.handoff, "handoff")]) == .handedOff)
        #expect(ConversationEvaluation.outcome(of: [turn(.handoff, "answer", "contact.human")]) == .missedHandoff)
        #expect(ConversationEvaluation.outcome(of: [turn(track, "fallback")]) == .deadEnd)
        #expect(ConversationEvaluation.outcome(of: [turn(track, "answer", "orders.delayed")]) == .deadEnd)
        #expect(ConversationEvaluation.outcome(of: [turn(track, "fallback"), turn(track, "answer", "orders.track")])
                == .bumpy)
        #expect(!ConversationEvaluation.isRight(.stay, action: "fallback", intent: nil))
        #expect(ConversationEvaluation.isRight(.ask, action: "clarify", intent: nil))
    }

    @Test("a run stops at the first handoff, as a person takes over there")
    func stopsAtHandoff() throws {
        let engine = SupportEngine(knowledgeBase: try DemoKnowledgeBase.load(), version: 1)
        let (conversations, issues) = ConversationEvaluation.parse("""
            - name: person, then more
              steps:
                - say: can i talk to a real person
                  expect: handoff
                - say: where is my order
                  expect: answer orders.track
            """, file: "c.yml")
        #expect(issues.isEmpty)
        let report = ConversationEvaluation.run(conversations, engine: engine)
        #expect(report.turnCount == 1)
        #expect(report.count(.handedOff) == 1)
    }

    @Test("the demo's tuning set of 174 conversations (written by a tester who had not read the engine) stays above its floor")
    func demoConversationsFloor() throws {
        let folder = DemoKnowledgeBase.root.appendingPathComponent("Tests/Fixtures/conversations/demo")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yml") }
        var conversations: [ScriptedConversation] = []
        for file in files.sorted() {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let parsed = ConversationEvaluation.parse(text, file: file)
            #expect(parsed.issues.isEmpty, "\(parsed.issues)")
            conversations += parsed.conversations
        }
        let engine = SupportEngine(knowledgeBase: try DemoKnowledgeBase.load(), version: 1)
        #expect(ConversationEvaluation.unknownTopics(in: conversations, knowledgeBase: engine.knowledgeBase).isEmpty)
        let report = ConversationEvaluation.run(conversations, engine: engine)
        #expect(report.conversations.count >= 150)
        // Floors a little under today's figures (2026-12-07: 58.3% of turns, 4 needless handoffs of 174);
        // `supportbot eval --conversations Tests/Fixtures/conversations/demo` prints them.
        #expect(Double(report.turnsRight) / Double(report.turnCount) >= 0.56)
        #expect(report.count(.wrongHandoff) <= 6)
    }
}

@Suite("Closings: the thanks or goodbye at the end of a message")
struct ClosingTests {
    @Test("found", arguments: [
        (["ok", "found", "it", "thanks"], ["thanks"]), (["caps", "lock", "was", "on", "haha", "cheers"], ["cheers"]),
        (["no", "worries", "good", "night"], ["good", "night"]), (["thank", "you", "all", "sorted"], ["thank", "you"]),
    ])
    func found(words: [String], closing: [String]) {
        #expect(Closing.words(in: words) == closing)
    }

    @Test("not a closing", arguments: [["thanks"], ["where", "is", "my", "order"], ["thanks", "but", "where", "is", "my", "order", "now"]])
    func notFound(words: [String]) {
        #expect(Closing.words(in: words) == nil)
    }
}
