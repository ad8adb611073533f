import Testing
@testable import SupportBotCore

@Suite("SpellingCorrector")
struct SpellingCorrectorTests {
    /// Word counts like those of a small shop's intent examples.
    static let counts: [String: Int] = [
        "where": 42, "when": 18, "here": 6, "there": 5, "package": 9, "parcel": 14, "refund": 23,
        "delivery": 17, "address": 11, "order": 55, "return": 20, "track": 12, "payment": 8, "cancel": 7,
    ]
    static let speller = SpellingCorrector(targets: counts, knownWords: ["the", "weather", "card", "hear"])

    @Test("typos are corrected to the knowledge base's words", arguments: [
        ("packge", "package"),
        ("refnud", "refund"),
        ("wher", "where"),
        ("whre", "where"),   // "where" and "here" are both one deletion away; "where" is more frequent
        ("ordr", "order"),
        ("retrun", "return"),
        ("adress", "address"),
        ("delivary", "delivery"),
        ("paymnet", "payment"),
        ("hwere", "where"),  // swapped first two letters are still close enough
    ])
    func corrections(typo: String, expected: String) {
        #expect(Self.speller.correction(for: typo) == expected)
    }

    @Test("known words are never corrected", arguments: ["where", "refund", "the", "weather", "card", "hear"])
    func knownWords(word: String) {
        #expect(Self.speller.correction(for: word) == nil)
        #expect(Self.speller.isKnown(word))
    }

    @Test("words shorter than four letters are not corrected", arguments: ["wer", "od", "x", "rfd"])
    func shortWords(word: String) {
        #expect(Self.speller.correction(for: word) == nil)
    }

    @Test("words with digits are not corrected", arguments: ["ord3r", "packag3", "2where", "refund1"])
    func digits(word: String) {
        #expect(Self.speller.correction(for: word) == nil)
    }

    @Test("two edits are allowed only for words of eight letters or more")
    func twoEditsOnlyForLongWords() {
        // 8 letters, a swap plus a wrong letter (cost 1.8): corrected.
        #expect(Self.speller.correction(for: "dleivary") == "delivery")
        // 8 letters, one missing and one extra letter: corrected.
        #expect(Self.speller.correction(for: "deliivry") == "delivery")
        // 7 letters, a missing letter plus a wrong letter: too far for a short word.
        #expect(Self.speller.correction(for: "dlivary") == nil)
        // 5 letters, two letters missing from "address": too far.
        #expect(Self.speller.correction(for: "adrss") == nil)
        // 4 letters, two missing letters from "refund": too far.
        #expect(Self.speller.correction(for: "rfnd") == nil)
        #expect(SpellingCorrector.maxEdits(forLength: 7) == 1)
        #expect(SpellingCorrector.maxEdits(forLength: 8) == 2)
    }

    @Test("a different first letter costs a little more")
    func firstLetter() {
        // Same edit cost (a wrong letter), but only "card" keeps the first letter.
        let speller = SpellingCorrector(targets: ["card": 1, "yard": 50], knownWords: [])
        #expect(speller.correction(for: "cxrd") == "card")
        // A wrong first letter alone (1 + 0.05) is over the one-edit limit of a short word.
        #expect(speller.correction(for: "xard") == nil)
        // A swapped first pair (0.8 + 0.05) still beats dropping a letter (0.9): "hwere" is "where".
        #expect(Self.speller.correction(for: "hwere") == "where")
    }

    @Test("unrelated words are left alone", arguments: ["mars", "banana", "xyzzy"])
    func unrelated(word: String) {
        #expect(Self.speller.correction(for: word) == nil)
    }

    @Test("equal cost goes to the more frequent word")
    func frequencyBreaksTies() {
        let speller = SpellingCorrector(targets: ["cart": 3, "card": 9], knownWords: [])
        #expect(speller.correction(for: "carx") == "card")
        let other = SpellingCorrector(targets: ["cart": 9, "card": 3], knownWords: [])
        #expect(other.correction(for: "carx") == "cart")
    }

    @Test("equal cost and equal frequency go to the alphabetically first word")
    func alphabeticalTieBreak() {
        // "address" is one wrong letter from both; both have the same count.
        let speller = SpellingCorrector(targets: ["addrens": 5, "agdress": 5], knownWords: [])
        #expect(speller.correction(for: "address") == "addrens")
        let reversed = SpellingCorrector(targets: ["agdress": 5, "addrens": 5], knownWords: [])
        #expect(reversed.correction(for: "address") == "addrens")
    }

    /// Pairs of words that are each one wrong letter (never the first one) away from `typo`.
    static func tiePairs() -> [(typo: String, first: String, second: String)] {
        let words = ["parcel", "refund", "return", "basket", "coupon", "street", "wallet", "ticket", "change",
                     "charge", "voucher", "invoice", "receipt", "account", "payment", "courier", "warranty",
                     "shipping", "discount", "exchange", "tracking", "postcode"]
        return words.enumerated().map { n, word in
            let letters = Array(word)
            let spare = Array("qjxzvkwy").filter { !letters.contains($0) }
            // Vary the places so that either variant can come first in the alphabet.
            let i = 1 + n % 2, j = letters.count - 1 - n % 3
            var a = letters, b = letters
            a[i] = spare[n % spare.count]
            b[j] = spare[(n + 1) % spare.count]
            return (word, String(a), String(b))
        }
    }

    @Test("ties are broken the same way on every call, for ~20 generated pairs")
    func generatedTies() {
        let pairs = Self.tiePairs()
        #expect(pairs.count >= 20)
        for (typo, a, b) in pairs {
            #expect(a != b && a != typo && b != typo)
            #expect(SpellingCorrector.distance(typo, a) == SpellingCorrector.distance(typo, b), "\(typo): \(a) \(b)")
            let expected = min(a, b)
            // A fresh corrector every time: hashing (and so the order words are visited in) changes per instance.
            for round in 0..<5 {
                let speller = SpellingCorrector(targets: [a: 3, b: 3], knownWords: [])
                #expect(speller.correction(for: typo) == expected, "\(typo) -> \(a) or \(b), round \(round)")
            }
            // A more frequent word still wins over the alphabetically first one.
            let other = expected == a ? b : a
            let weighted = SpellingCorrector(targets: [expected: 3, other: 4], knownWords: [])
            #expect(weighted.correction(for: typo) == other, "\(typo)")
        }
    }

    @Test("the result is the same on every call and for every build of the corrector")
    func deterministic() {
        let first = SpellingCorrector(targets: Self.counts, knownWords: [])
        let second = SpellingCorrector(targets: Self.counts, knownWords: [])
        for typo in ["packge", "refnud", "wher", "whre", "ordr", "delivary", "phere", "tehre", "heer"] {
            let answer = first.correction(for: typo)
            #expect(second.correction(for: typo) == answer, "\(typo)")
            #expect(first.correction(for: typo) == answer, "\(typo)")
        }
    }

    @Test("weighted distance: swap 0.8, missing or extra letter 0.9, wrong letter 1")
    func distance() {
        #expect(SpellingCorrector.distance("refnud", "refund") == 0.8)
        #expect(SpellingCorrector.distance("packge", "package") == 0.9)
        #expect(SpellingCorrector.distance("orderx", "order") == 0.9)
        #expect(SpellingCorrector.distance("cart", "card") == 1)
        #expect(SpellingCorrector.distance("same", "same") == 0)
        #expect(abs(SpellingCorrector.distance("", "abc") - 2.7) < 1e-9)
    }

    /// The analyzer looks known words up in a table built from the speller's vocabulary; the result must be what
    /// the full pipeline (no speller, synonyms, stemmer) gives, and unknown words must still be corrected.
    @Test("known words take the analyzer's table and give the same traces as the full pipeline")
    func knownWordTable() {
        let synonyms = Synonyms(["parcel": "package"])
        let withSpeller = TextAnalyzer(synonyms: synonyms, speller: Self.speller)
        let plain = TextAnalyzer(synonyms: synonyms, speller: nil)
        let known = "where is the package for my delivery address and the refund"
        #expect(withSpeller.analyze(known) == plain.analyze(known))
        #expect(withSpeller.analyze(known, correctSpelling: false) == plain.analyze(known))
        let parcel = withSpeller.analyze("parcel").first
        #expect(parcel?.synonym == "package")
        #expect(parcel?.stem == PorterStemmer.stem("package"))
        let typo = withSpeller.analyze("packge deliveries").first
        #expect(typo?.corrected == "package")
        #expect(withSpeller.analyze("packge", correctSpelling: false).first?.corrected == nil)
    }

    /// The doubt model's smaller matchers share the full matcher's index of deletions; their answers must be those
    /// of a corrector built from their own words.
    @Test("a corrector sharing a bigger one's index answers like one built from scratch")
    func sharedIndex() {
        var fewer = Self.counts
        fewer["where"] = nil
        fewer["package"] = nil
        fewer["refund"] = 2
        let known: Set<String> = ["the", "weather", "card", "hear"]
        let scratch = SpellingCorrector(targets: fewer, knownWords: known)
        let shared = SpellingCorrector(sharing: Self.speller, targets: fewer, knownWords: known)
        for word in ["packge", "refnud", "wher", "whre", "ordr", "retrun", "adress", "delivary", "paymnet", "hwere",
                     "parcle", "cancle", "trakc", "where", "package", "xyzzy", "here", "thre"] {
            #expect(shared.correction(for: word) == scratch.correction(for: word), "\(word)")
            #expect(shared.isKnown(word) == scratch.isKnown(word), "\(word)")
        }
        #expect(shared.correction(for: "packge") != "package")  // not a target of the smaller one
    }
}
