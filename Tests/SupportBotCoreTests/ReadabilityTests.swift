import Testing
@testable import SupportBotCore

@Suite("Readability agrees with textstat 0.7.3")
struct ReadabilityTests {
    /// Reference figures from Python: textstat.lexicon_count, sentence_count, syllable_count, flesch_kincaid_grade
    /// (textstat==0.7.3, pyphen 0.18.1), one call each per text.
    static let references: [(text: String, words: Int, sentences: Int, syllables: Int, grade: Double)] = [
        ("Once your parcel leaves us, we e-mail you a tracking link. You can also log in and open \"My orders\" to see where it is.", 25, 2, 29, 3.4),
        ("Approximately seventy-five percent of customers prefer uncomplicated explanations of complicated procedures.", 11, 1, 33, 24.1),
        ("Hyphenation: co-operate, re-enter, e-mail; numbers 3.14 and 1,000!", 8, 2, 15, 8.4),
        ("Über café déjà vu naïve.", 5, 1, 5, -1.9),
        ("Wait... what?! Really?? Yes.", 4, 1, 6, 3.7),
        ("Mr. Smith went to Washington. He arrived at 3 p.m. and left.", 12, 2, 15, 2.1),
        ("Don't worry, it's fine. We'll help you today!", 8, 2, 10, 1.3),
        ("The quick brown fox jumps over the lazy dog.", 9, 1, 9, -0.4),
        ("Sorry, I still don't get it. Please try a few short words, like \"where is my order\".", 17, 2, 19, 0.7),
        ("Notwithstanding the aforementioned stipulations, reimbursement eligibility necessitates comprehensive documentation.", 9, 1, 35, 33.9),
        ("Hi! Thanks. We ship to the UK, Ireland, France, Germany, the Netherlands and Belgium. Standard delivery takes 3 to 5 working days and costs £3.95, or it is free over £50.", 31, 3, 39, 3.8),
        ("Returns are free within 30 days.\n\nPrint the label, pack the item well, and drop it at any post office.", 20, 2, 24, 2.5),
    ]

    @Test("words, sentences, syllables and grade match textstat exactly", arguments: references.indices)
    func matchesTextstat(index: Int) {
        let reference = Self.references[index]
        let reading = Readability(reference.text)
        #expect(reading.words == reference.words)
        #expect(reading.sentences == reference.sentences)
        #expect(reading.syllables == reference.syllables)
        #expect(abs(reading.grade - reference.grade) < 0.001, "grade \(reading.grade), textstat \(reference.grade)")
    }

    @Test("hyphenation follows Liang's patterns as pyphen does")
    func hyphenation() {
        #expect(Hyphenator.enUS.positions("hyphenation") == [2, 6])
        #expect(Hyphenator.enUS.positions("cat").isEmpty)
        #expect(Readability.syllableCount("Approximately") == 5)
    }

    @Test("empty text is grade -15.7 with no words, as textstat says")
    func empty() {
        let reading = Readability("")
        #expect(reading.words == 0 && reading.sentences == 1 && reading.syllables == 0)
        #expect(reading.grade == -15.7)
    }

    @Test("every fixed sentence the bot says is grade 6 or lower")
    func botMessages() {
        let messages = BotMessages(settings: ["shop_name": "Pebble & Pine", "email": "help@pebbleandpine.example"])
        for sample in messages.allSamples {
            #expect(Readability(sample).grade <= 6, "\(Readability(sample).grade): \(sample)")
        }
    }
}
