import Testing
@testable import SupportBotCore

@Suite("PorterStemmer")
struct PorterStemmerTests {
    /// Outputs published with the Porter algorithm (Porter 1980 and the reference vocabulary/output files).
    static let published: [(String, String)] = [
        ("caresses", "caress"), ("ponies", "poni"), ("ties", "ti"), ("caress", "caress"), ("cats", "cat"),
        ("feed", "feed"), ("agreed", "agre"), ("plastered", "plaster"), ("motoring", "motor"), ("sing", "sing"),
        ("conflated", "conflat"), ("troubled", "troubl"), ("sized", "size"), ("hopping", "hop"), ("tanned", "tan"),
        ("falling", "fall"), ("hissing", "hiss"), ("fizzed", "fizz"), ("failing", "fail"), ("filing", "file"),
        ("happy", "happi"), ("sky", "sky"), ("relational", "relat"), ("conditional", "condit"),
        ("rational", "ration"), ("valenci", "valenc"), ("digitizer", "digit"), ("conformabli", "conform"),
        ("radicalli", "radic"), ("differentli", "differ"), ("vileli", "vile"), ("analogousli", "analog"),
        ("vietnamization", "vietnam"), ("predication", "predic"), ("operator", "oper"), ("feudalism", "feudal"),
        ("decisiveness", "decis"), ("hopefulness", "hope"), ("callousness", "callous"), ("formaliti", "formal"),
        ("sensitiviti", "sensit"), ("sensibiliti", "sensibl"), ("triplicate", "triplic"), ("formative", "form"),
        ("formalize", "formal"), ("electriciti", "electr"), ("electrical", "electr"), ("hopeful", "hope"),
        ("goodness", "good"), ("revival", "reviv"), ("allowance", "allow"), ("inference", "infer"),
        ("airliner", "airlin"), ("gyroscopic", "gyroscop"), ("adjustable", "adjust"), ("defensible", "defens"),
        ("irritant", "irrit"), ("replacement", "replac"), ("adjustment", "adjust"), ("dependent", "depend"),
        ("adoption", "adopt"), ("homologou", "homolog"), ("communism", "commun"), ("activate", "activ"),
        ("angulariti", "angular"), ("homologous", "homolog"), ("effective", "effect"), ("bowdlerize", "bowdler"),
        ("probate", "probat"), ("rate", "rate"), ("cease", "ceas"), ("controll", "control"), ("roll", "roll"),
        ("generalizations", "gener"), ("oscillators", "oscil"), ("refunds", "refund"), ("refunded", "refund"),
        ("refunding", "refund"), ("delivery", "deliveri"), ("deliveries", "deliveri"), ("shipping", "ship"),
        ("returned", "return"), ("cancellation", "cancel"), ("ordering", "order"), ("package", "packag"),
    ]

    @Test("published Porter outputs", arguments: published)
    func publishedOutputs(word: String, expected: String) {
        #expect(PorterStemmer.stem(word) == expected)
    }

    @Test("words with characters outside a-z are returned unchanged", arguments: [
        "Cats", "café", "refund2", "re-funds", "order's", "REFUNDS", "ñandúes",
    ])
    func nonLetters(word: String) {
        #expect(PorterStemmer.stem(word) == word)
    }

    @Test("words of one or two letters are returned unchanged", arguments: ["a", "s", "is", "as", "us", "ys", "ed"])
    func shortWords(word: String) {
        #expect(PorterStemmer.stem(word) == word)
    }

    @Test("three-letter words are stemmed")
    func threeLetters() {
        #expect(PorterStemmer.stem("ies") == "i")
        #expect(PorterStemmer.stem("sss") == "sss")
        #expect(PorterStemmer.stem("bus") == "bu")
    }

    @Test("empty word is returned unchanged")
    func emptyWord() {
        #expect(PorterStemmer.stem("") == "")
    }
}
