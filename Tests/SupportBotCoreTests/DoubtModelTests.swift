import Foundation
import Testing
@testable import SupportBotCore

@Suite("Doubt model: learned from the knowledge base's own examples")
struct DoubtModelTests {
    static let demo = Result { try DemoKnowledgeBase.load() }

    @Test("the demo knowledge base learns a model: an uncovered question is doubted, a clear one is trusted")
    func doubtsUncoveredQuestions() throws {
        let engine = SupportEngine(knowledgeBase: try Self.demo.get(), version: 1)
        let clear = engine.matcher.match("where is my parcel")
        let uncovered = engine.matcher.match("what is the capital of france")
        let clearDoubt = try #require(clear.doubt)
        let uncoveredDoubt = try #require(uncovered.doubt)
        #expect(clearDoubt < 0.3, "clear question doubted \(clearDoubt)")
        #expect(uncoveredDoubt >= engine.config.doubtThreshold, "uncovered question doubted only \(uncoveredDoubt)")
        // The explanation names the three inputs that pushed hardest, strongest first.
        #expect(uncovered.doubtFactors.count == 3)
        let pushes = uncovered.doubtFactors.map { abs($0.push) }
        #expect(pushes == pushes.sorted(by: >))
        #expect(uncovered.doubtFactors.allSatisfy { MatchEvidence.names.contains($0.name) })

        var context = DialogueContext()
        let reply = engine.reply(to: "what is the capital of france", context: &context)
        #expect(reply.action == .fallback)
    }

    @Test("the same knowledge base always learns the same model, on one thread or on several")
    func deterministic() throws {
        let kb = try Self.demo.get()
        let messages = ["can i pay with bitcoin", "my sofa leg broke", "do you sell pizza", "where is my refund"]
        let first = Matcher(knowledgeBase: kb)
        // A version swapped in under load is built on one thread: it must learn the very same model.
        let second = Matcher(knowledgeBase: kb, build: .oneCore)
        for message in messages {
            let a = first.match(message), b = second.match(message)
            #expect(a.doubt != nil)
            #expect(a.doubt == b.doubt, "\(message)")
            #expect(a.doubtFactors == b.doubtFactors, "\(message)")
        }
    }

    @Test("a knowledge base too small to learn from has no model, and the old rules decide alone")
    func tooSmall() {
        #expect(ShopKnowledge.engine.matcher.match("where is my order").doubt == nil)
    }

    @Test("doubt_threshold 1 turns the model off; 0 makes every matched question fall back, with the doubt as the reason")
    func threshold() throws {
        let kb = try Self.demo.get()
        var off = kb.matching
        off.doubtThreshold = 1
        #expect(Matcher(knowledgeBase: KnowledgeBase(intents: kb.intents, matching: off)).match("where is my parcel").doubt == nil)

        var strict = kb.matching
        strict.doubtThreshold = 0
        var strictKB = kb
        strictKB.matching = strict
        let engine = SupportEngine(knowledgeBase: strictKB, version: 1)
        var context = DialogueContext()
        // Not an example word for word (those are answered whatever the doubt).
        let reply = engine.reply(to: "where is my parcel now", context: &context)
        #expect(reply.action == .fallback)
        #expect(reply.reason.hasPrefix("probably not covered, or the wrong topic (doubt "), "\(reply.reason)")
    }

    @Test("doubt_threshold is a setting with the usual checks")
    func settings() throws {
        let config = try KnowledgeLoader.matchingConfig(settingsYAML: """
            matching:
              doubt_threshold: 0.9
            """)
        #expect(config.doubtThreshold == 0.9)
        #expect(throws: KnowledgeBaseError.self) {
            try KnowledgeLoader.matchingConfig(settingsYAML: "matching:\n  doubt_threshold: 1.5\n")
        }
    }

    @Test("with a model, the doubt decides: low doubt answers even a weak match, a short close call is still asked about")
    func doubtDecides() throws {
        let engine = SupportEngine(knowledgeBase: try Self.demo.get(), version: 1)
        var context = DialogueContext()
        let clear = engine.reply(to: "where is my parcel", context: &context)
        #expect(clear.action == .answer)
        #expect(clear.reason.hasPrefix("little doubt ("), "\(clear.reason)")
        // A close call of two words is still asked about, with options, however low the doubt.
        var short = DialogueContext()
        let giftCard = engine.reply(to: "gift card", context: &short)
        #expect(giftCard.action == .clarify, "\(giftCard.reason)")
        #expect(giftCard.options.count >= 2)
        #expect(try #require(giftCard.match?.doubt) < engine.config.doubtThreshold)
        // The same close call in a longer message is answered when the doubt is low.
        var long = DialogueContext()
        let longer = engine.reply(to: "how do i use my gift card please", context: &long)
        #expect(longer.action == .answer, "\(longer.reason)")
        // Every reply with a model behind it carries its doubt, on the right side of the threshold.
        for message in ["can i change my delivery address please", "how long do refunds take to arrive"] {
            var fresh = DialogueContext()
            let reply = engine.reply(to: message, context: &fresh)
            let doubt = try #require(reply.match?.doubt, "\(message)")
            switch reply.action {
            case .answer: #expect(doubt < engine.config.doubtThreshold, "\(message)")
            case .fallback: #expect(doubt >= engine.config.doubtThreshold, "\(message): \(reply.reason)")
            case .clarify: #expect(reply.match?.tokens.count ?? 0 < SupportEngine.wordsToSkipAsking, "\(message)")
            }
        }
    }

    @Test("the logistic fit finds the side a single clear input points to")
    func fit() throws {
        // Rows where only the lead matters: a small lead means the answer was wrong.
        var rows: [(MatchEvidence, Bool)] = []
        for i in 0..<400 {
            let lead = Double(i % 100) / 100
            var plain = [Double](repeating: 0.5, count: 22)
            plain[1] = lead
            plain[5] = Double((i * 7) % 13) / 13   // noise
            rows.append((MatchEvidence(plain: plain), lead < 0.3))
        }
        let model = DoubtModel.fit(rows)
        var low = [Double](repeating: 0.5, count: 22), high = low
        low[1] = 0.05
        high[1] = 0.9
        #expect(model.verdict(MatchEvidence(plain: low)).doubt > 0.9)
        #expect(model.verdict(MatchEvidence(plain: high)).doubt < 0.1)
        #expect(model.verdict(MatchEvidence(plain: low)).factors.first?.name.contains("lead") == true)
    }
}
