@testable import SupportBotCore

/// A small shop's knowledge base, built in memory for matcher and dialogue tests.
enum ShopKnowledge {
    static let intents: [Intent] = [
        Intent(id: "orders.track", title: "Track my order", examples: [
            "where is my order", "track my order", "where is my parcel", "has my order shipped yet",
            "can i have the tracking number", "order status",
        ], response: .article(id: "orders/track"), suggest: ["orders.late"]),
        Intent(id: "orders.late", title: "My order is late", examples: [
            "my order is late", "my parcel has not arrived", "my order still has not come",
            "delivery is late", "why is my order taking so long", "my package is overdue",
        ], response: .article(id: "orders/late")),
        Intent(id: "returns.start", title: "Start a return", examples: [
            "i want to return an item", "how do i return something", "start a return",
            "send an item back", "return my jacket",
        ], response: .article(id: "returns/start"), suggest: ["returns.how_long", "refunds.status"]),
        Intent(id: "returns.how_long", title: "How long a return takes", examples: [
            "how long does it take", "how long will that take", "how many days does that take",
        ], response: .reply("Returns take 3 to 5 days to reach us."), after: ["returns.start"]),
        Intent(id: "refunds.status", title: "Check my refund", examples: [
            "where is my refund", "when will i get my refund", "refund status", "has my refund been paid",
            "i have not got my refund",
        ], response: .reply("Refunds reach your bank in 5 days.")),
        Intent(id: "payment.methods", title: "Ways to pay", examples: [
            "what payment methods do you accept", "can i pay with paypal", "do you take credit cards",
            "how can i pay",
        ], response: .reply("You can pay by card or PayPal.")),
        Intent(id: "giftcards.buy", title: "Buy a gift card", examples: [
            "buy a gift card", "i want to buy a gift card", "gift card for a friend", "gift card",
        ], response: .reply("Gift cards are on our website.")),
        Intent(id: "giftcards.balance", title: "Gift card balance", examples: [
            "gift card balance", "how much is left on my gift card", "check my gift card", "gift card",
        ], response: .reply("Check the balance on the gift card page.")),
        Intent(id: "smalltalk.hello", title: "Say hello", examples: ["hello", "hi there", "good morning"],
               response: .reply("Hi! How can I help?")),
        Intent(id: "contact.human", title: "Talk to a person", examples: [
            "i want to talk to a person", "speak to a human", "real agent please", "can i talk to someone",
        ], response: .reply("I will find a person to help you."), handoff: true),
    ]

    static let articles: [String: Article] = [
        "orders/track": Article(id: "orders/track", title: "Track your order",
                                body: "Open the link in your e-mail to see where your parcel is."),
        "orders/late": Article(id: "orders/late", title: "Late orders",
                               body: "Most orders arrive in 3 to 5 days. If yours is late, we will help."),
        "returns/start": Article(id: "returns/start", title: "Start a return",
                                 body: "Log in, open your order and tap Return."),
    ]

    static let knowledgeBase = KnowledgeBase(
        intents: intents, articles: articles, settings: ["email": "help@shop.example"],
        synonyms: Synonyms(["package": "parcel", "packet": "parcel"]))

    static let engine = SupportEngine(knowledgeBase: knowledgeBase, version: 7)
}
