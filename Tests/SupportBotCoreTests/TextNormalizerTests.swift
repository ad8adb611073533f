import Foundation
import Testing
@testable import SupportBotCore

@Suite("TextNormalizer")
struct TextNormalizerTests {
    @Test("case and accents are folded", arguments: [
        ("Café", ["cafe"]),
        ("CAFÉ", ["cafe"]),
        ("Crème Brûlée", ["creme", "brulee"]),
        ("Straße", ["strasse"]),
        ("ÜBER naïve Señor", ["uber", "naive", "senor"]),
        ("ｏｒｄｅｒ", ["order"]), // full-width letters
        ("Where IS my Order", ["where", "is", "my", "order"]),
    ])
    func folding(input: String, expected: [String]) {
        #expect(TextNormalizer.tokens(input) == expected)
    }

    @Test("contractions are expanded", arguments: [
        ("I'm", ["i", "am"]),
        ("can't", ["can", "not"]),
        ("won't", ["will", "not"]),
        ("don't", ["do", "not"]),
        ("where's", ["where", "is"]),
        ("you've", ["you", "have"]),
        ("dont", ["do", "not"]),
        ("cant", ["can", "not"]),
        ("im late", ["i", "am", "late"]),
        ("it's", ["it", "is"]),
        ("they're", ["they", "are"]),
        ("we'll", ["we", "will"]),
        ("I'd like", ["i", "would", "like"]),
        ("what's", ["what", "is"]),
        ("didn't", ["did", "not"]),
        ("the shop's hours", ["the", "shop", "hours"]),
    ])
    func contractions(input: String, expected: [String]) {
        #expect(TextNormalizer.tokens(input) == expected)
    }

    @Test("curly and other typographic apostrophes count as plain ones", arguments: [
        ("I\u{2019}m", ["i", "am"]),
        ("can\u{2019}t", ["can", "not"]),
        ("don\u{2018}t", ["do", "not"]),
        ("where\u{02BC}s", ["where", "is"]),
        ("won`t", ["will", "not"]),
        ("you\u{00B4}ve", ["you", "have"]), // acute accent, which decomposes to a space and a combining mark
        ("don\u{00B4}t", ["do", "not"]),
        ("I\u{00B4}m", ["i", "am"]),
    ])
    func curlyApostrophes(input: String, expected: [String]) {
        #expect(TextNormalizer.tokens(input) == expected)
    }

    @Test("punctuation splits words and is dropped", arguments: [
        ("Hello,world!How are you?", ["hello", "world", "how", "are", "you"]),
        ("e-mail", ["e", "mail"]),
        ("order/refund...now", ["order", "refund", "now"]),
        ("'quoted'", ["quoted"]),
        ("\"where\" (is) [it]", ["where", "is", "it"]),
        ("tabs\tand\nnew lines", ["tabs", "and", "new", "lines"]),
    ])
    func punctuation(input: String, expected: [String]) {
        #expect(TextNormalizer.tokens(input) == expected)
    }

    @Test("digits are kept inside and as words")
    func digits() {
        #expect(TextNormalizer.tokens("Order #12345 arrived on 3rd May") == ["order", "12345", "arrived", "on", "3rd", "may"])
        #expect(TextNormalizer.tokens("A1B2") == ["a1b2"])
    }

    @Test("emoji are dropped")
    func emoji() {
        #expect(TextNormalizer.tokens("I love it 😀👍") == ["i", "love", "it"])
        #expect(TextNormalizer.tokens("😡order😡late") == ["order", "late"])
        #expect(TextNormalizer.tokens("👍🏽❤️") == [])
    }

    @Test("empty and whitespace-only input give no tokens", arguments: ["", " ", "   \n\t  ", "?!...", "'''"])
    func empty(input: String) {
        #expect(TextNormalizer.tokens(input).isEmpty)
    }

    @Test("fold lower-cases, strips accents and maps typographic quotes")
    func fold() {
        #expect(TextNormalizer.fold("Café \u{2019}Ok\u{2018}") == "cafe 'ok'")
        #expect(TextNormalizer.fold("e\u{301}") == "e") // combining acute accent
    }

    @Test("containsText finds a part where Foundation's contains does, on ASCII and other text")
    func containsText() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["did", "not", "help", " ", "me", "helpful", "e\u{301}", "caf\u{E9}", "x"]
        var differing: [String] = []
        var found = 0
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            let part = (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            let expected = (text as NSString).range(of: part).location != NSNotFound
            if text.containsText(part) != expected { differing.append("\(text) / \(part)") }
            if expected { found += 1 }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
        #expect(found > 100)
    }
}

@Suite("TextAnalyzer")
struct TextAnalyzerTests {
    let analyzer = TextAnalyzer(synonyms: Synonyms(), speller: nil)

    @Test("e-mail addresses and bare numbers give no tokens")
    func emailAndNumbersDropped() {
        let words = analyzer.analyze("where is order 12345, mail me at jo@example.com").map(\.word)
        #expect(words == ["where", "is", "order", "mail", "me", "at"])
        for dropped in ["12345", "jo", "example", "com", "jo@example.com"] {
            #expect(!words.contains(dropped), "\(dropped) in \(words)")
        }
    }

    @Test("phone numbers, card numbers and amounts give no tokens")
    func phoneAndCardDropped() {
        let words = analyzer.analyze("call me on +44 7700 900123 about 25 pounds").map(\.word)
        #expect(words == ["call", "me", "on", "about", "pounds"])
        let card = analyzer.analyze("card 4111 1111 1111 1111 was charged twice").map(\.word)
        #expect(card == ["card", "was", "charged", "twice"])
    }

    @Test("words with digits in them are kept")
    func wordsWithDigitsKept() {
        #expect(analyzer.analyze("arrived on 3rd may").map(\.word) == ["arrived", "on", "3rd", "may"])
    }

    /// Plain ASCII takes a byte-level fast path; the same text with one accented word added takes the Unicode path.
    @Test("the ASCII fast path splits words exactly like the Unicode path", arguments: [
        "Where IS my Order?", "I can't log in!!", "it's the shop's fault''", "'quoted' words and ''double''",
        "don`t do that", "rock'n'roll isn't dead", "I'm, you're, we've, they'll, he'd", "a''b ''c d''",
        "card 4111-1111 was charged 2x", "  spaces\tand\nlines  ", "?!...", "'", "O'Brien's order #12",
        "There are some payments with my card that I don't know where they are coming from. Just checked today.",
    ])
    func asciiFastPath(input: String) {
        let slow = TextNormalizer.tokens(input + " \u{00E9}")
        #expect(slow.last == "e")
        #expect(TextNormalizer.tokens(input) == Array(slow.dropLast()))
    }
}
