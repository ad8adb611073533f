import Testing
@testable import SupportBotCore

/// Inputs found in review that crashed, stalled or misled before.
@Suite("Review regressions")
struct ReviewRegressionTests {
    @Test("words ending in -lle stem without crashing", arguments: [
        ("michelle", "michel"), ("belle", "bell"), ("gazelle", "gazel"), ("braille", "braill"), ("elle", "ell"),
    ])
    func stemsDoubleLWithE(word: String, stem: String) {
        #expect(PorterStemmer.stem(word) == stem)
    }

    @Test("a customer's name in a message does not take the engine down")
    func nameInMessage() {
        var context = DialogueContext()
        let reply = ShopKnowledge.engine.reply(to: "Hi, this is Michelle, where is my order", context: &context)
        #expect(reply.intent == "orders.track")
    }

    @Test("a word far longer than any known word is not looked up")
    func veryLongWord() {
        let speller = SpellingCorrector(targets: ["refund": 3, "delivery": 2], knownWords: [])
        #expect(speller.correction(for: String(repeating: "refundz", count: 600)) == nil)
        #expect(speller.correction(for: "refnud") == "refund")
    }

    @Test("a synonym chain is reported where it starts")
    func synonymChain() {
        let files = [
            "intents/_synonyms.yml": "box: [parcel]\nparcel: [package]\n",
            "intents/a.yml": "- id: a\n  title: A\n  reply: hi\n  examples: [where is my parcel]\n",
        ]
        #expect(throws: KnowledgeBaseError.self) { try KnowledgeLoader.load(files: files) }
        do {
            _ = try KnowledgeLoader.load(files: files)
        } catch let error as KnowledgeBaseError {
            #expect(error.issues.count == 1)
            #expect(error.issues.first?.location == SourceLocation(file: "intents/_synonyms.yml", line: 2))
            #expect(error.issues.first?.message.contains("box: [parcel, package") == true)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("weights of zero are refused: they would break the similarity sums", arguments: [
        "function_word_weight", "bigram_weight",
    ])
    func zeroWeightRefused(name: String) {
        var config = MatchingConfig()
        #expect(config.set(name, to: 0)?.contains("above 0") == true)
        #expect(config.set(name, to: 0.5) == nil)
    }
}
