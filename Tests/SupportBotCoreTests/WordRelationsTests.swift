import Testing
@testable import SupportBotCore

@Suite("Word relations: English words that mean the same or nearly (WordNet)")
struct WordRelationsTests {
    @Test("the shipped table has synonyms and derived forms, by stem, with their weights")
    func shippedTable() throws {
        let relations = WordRelations.english
        #expect(relations.stemCount > 10_000)
        let parcel = try #require(relations.related(toStem: PorterStemmer.stem("parcel")))
        let package = try #require(parcel.relations.first { $0.stem == PorterStemmer.stem("package") }, "\(parcel)")
        #expect(package.kind == .synonym && package.weight == 1, "\(package)")
        let delivery = try #require(relations.related(toStem: PorterStemmer.stem("delivery")))
        #expect(delivery.relations.contains { $0.word == "deliver" && $0.kind == .derived }, "\(delivery)")
        let decline = try #require(relations.related(toStem: PorterStemmer.stem("decline")))
        #expect(decline.relations.contains { $0.word == "refuse" }, "\(decline)")
        // Strongest first, and never the stem itself.
        for stem in ["parcel", "refund", "voucher", "broken"].map(PorterStemmer.stem) {
            guard let entry = relations.related(toStem: stem) else { continue }
            #expect(!entry.relations.contains { $0.stem == stem })
            #expect(entry.relations.map(\.weight) == entry.relations.map(\.weight).sorted(by: >))
            #expect(entry.relations.allSatisfy { $0.weight >= 0.25 && $0.weight <= 1 })
        }
    }

    @Test("a table line is read into stems; a line that can't be read is skipped")
    func readsLines() throws {
        let relations = WordRelations(table: """
            voucher coupon 33s vouch 90d
            broken
            odd one
            parcels parcel 100s package 80s
            vouchers token 50s
            """)
        let voucher = try #require(relations.related(toStem: "voucher"))
        #expect(voucher.word == "voucher")
        #expect(voucher.relations.map(\.word) == ["vouch", "coupon"])
        #expect(voucher.relations.map(\.kind) == [.derived, .synonym])
        // "parcels" and "parcel" have one stem: the relation to itself is dropped.
        let parcel = try #require(relations.related(toStem: "parcel"))
        #expect(parcel.relations.map(\.word) == ["package"])
        #expect(relations.related(toStem: "broken") == nil)
        // A later word of the same stem (the table lists the most common first) does not speak for it.
        #expect(!voucher.relations.contains { $0.word == "token" })
        #expect(relations.stemCount == 2)
    }
}

@Suite("Matching with related words")
struct RelatedWordMatchingTests {
    static let files = [
        "intents/shop.yml": """
            - id: gift_cards.buy
              title: Buy a coupon
              answer: shop/coupon
              examples: [can i buy a coupon, do you sell coupons, where do i get a coupon, coupon for a friend]
            - id: orders.track
              title: Track my order
              answer: shop/track
              examples: [where is my order, track my order, has my order shipped, order status]
            - id: returns.start
              title: Send something back
              answer: shop/returns
              examples: [i want to return an item, how do i send it back, return a jacket]
            """,
        "knowledge/shop/coupon.md": "---\ntitle: Coupons\n---\nBuy one on the website.\n",
        "knowledge/shop/track.md": "---\ntitle: Track\n---\nUse the link in your e-mail.\n",
        "knowledge/shop/returns.md": "---\ntitle: Returns\n---\nSend it back within 30 days.\n",
    ]

    @Test("a word no example has finds the examples that say it in other words; --explain names the relation")
    func voucherFindsCoupon() throws {
        let engine = SupportEngine(knowledgeBase: try KnowledgeLoader.load(files: Self.files), version: 1)
        let match = engine.matcher.match("voucher please")
        #expect(match.best?.intent == "gift_cards.buy", "\(match.candidates)")
        let related = engine.matcher.relatedWords(for: match.tokens)
        let use = try #require(related.first { $0.related == "coupon" }, "\(related)")
        #expect(use.word == "voucher" && use.kind == .synonym)
        #expect(use.weight > 0 && use.weight <= MatchingConfig().relatedWordWeight)
        // What the message shares with the example is its own words, not the related ones.
        #expect(match.best?.sharedTerms.contains("coupon") == false, "\(match.best?.sharedTerms ?? [])")
        // A word the examples have counts as itself, and only a little as its relations.
        let known = MatchingConfig().relatedWordWeight * Double(Matcher.knownRelatedShare)
        let order = engine.matcher.match("where is my order")
        for use in engine.matcher.relatedWords(for: order.tokens) where use.word == "order" {
            #expect(use.weight <= known + 1e-9, "\(use)")
        }
    }

    @Test("related_word_weight: 0 turns related words off")
    func turnedOff() throws {
        var files = Self.files
        files["knowledge/_settings.yml"] = "matching:\n  related_word_weight: 0\n"
        let knowledgeBase = try KnowledgeLoader.load(files: files)
        #expect(knowledgeBase.matching.relatedWordWeight == 0)
        let matcher = SupportEngine(knowledgeBase: knowledgeBase, version: 1).matcher
        let match = matcher.match("voucher please")
        #expect(matcher.relatedWords(for: match.tokens).isEmpty)
        #expect(match.best?.intent != "gift_cards.buy", "\(match.candidates)")
        #expect(throws: KnowledgeBaseError.self) {
            try KnowledgeLoader.matchingConfig(settingsYAML: "matching:\n  related_word_weight: 2\n")
        }
    }
}
