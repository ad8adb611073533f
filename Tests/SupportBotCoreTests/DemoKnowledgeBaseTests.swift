import Foundation
import Testing
@testable import SupportBotCore

/// The shipped demo knowledge base, read from the repository's intents/ and knowledge/ folders.
enum DemoKnowledgeBase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func load() throws -> KnowledgeBase {
        try KnowledgeLoader.load(intentsDirectory: root.appendingPathComponent("intents").path,
                                 knowledgeDirectory: root.appendingPathComponent("knowledge").path)
    }
}

@Suite struct DemoKnowledgeBaseTests {
    @Test func loadsWithoutProblemsAndIsBigEnough() throws {
        let kb = try DemoKnowledgeBase.load()
        #expect(kb.intents.count >= 50)
        for intent in kb.intents {
            #expect(intent.examples.count >= 10, "\(intent.id) has only \(intent.examples.count) examples")
        }
    }

    @Test func leaveOneOutRoutesAtLeastNinetyPercent() throws {
        let engine = SupportEngine(knowledgeBase: try DemoKnowledgeBase.load(), version: 1)
        let report = LeaveOneOut.evaluate(engine)
        let percent = String(format: "%.1f", report.landedRate * 100)
        let answered = String(format: "%.1f", report.answeredRate * 100)
        print("Held-out examples (10 folds, each routed by an engine that never saw it) on the demo knowledge base: \(report.landed)/\(report.total) = \(percent)% land on "
            + "their own intent; \(answered)% answered confidently.")
        for miss in report.misses.prefix(15) {
            print("  miss: [\(miss.intent)] \"\(miss.example)\" -> \(miss.landedOn ?? "nothing") \(miss.score)")
        }
        #expect(report.total > 500)
        #expect(report.landedRate >= 0.90)
    }

    /// A person chatting through the whole customer journey gets the right answer each time.
    @Test(arguments: [
        ("what do you sell", "products"), ("what size should i get", "size"), ("is this in stock", "stock"),
        ("can i pay with paypal", "payment"), ("how much is shipping", "shipping"),
        ("do you ship to france", "countr"), ("my card was declined", "declin"),
        ("my promo code doesnt work", "promo"), ("can i get an invoice", "invoice"),
        ("wher is my packge", "track"), ("i need to change my delivery address", "address"),
        ("cancel my order please", "cancel"), ("my order is late", "delay"),
        ("i want to return my boots", "return"), ("when will i get my refnud", "refund"),
        ("the tent arrived damaged", "damage"), ("you sent me the wrong item", "wrong"),
        ("i forgot my password", "password"), ("delete my data", "delete"),
        ("unsubscribe me from the newsletter", "newsletter"), ("what are your opening hours", "hours"),
        ("hello", "hello"), ("thanks", "thank"), ("are you a bot", "bot"), ("i want to talk to a human", "human"),
    ])
    func journeyQuestionIsAnswered(question: String, intentPart: String) throws {
        let engine = SupportEngine(knowledgeBase: try DemoKnowledgeBase.load(), version: 1)
        var context = DialogueContext()
        let reply = engine.reply(to: question, context: &context)
        #expect(reply.action == .answer, "\(question) -> \(reply.action) \(reply.intent ?? "-") \(reply.confidence)")
        #expect(reply.intent?.contains(intentPart) == true, "\(question) -> \(reply.intent ?? "none")")
    }
}
