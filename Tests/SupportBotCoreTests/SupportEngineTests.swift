import Foundation
import Testing
@testable import SupportBotCore

/// A conversation with the shop's engine: each `say` goes through the real policy and keeps the context.
struct Conversation {
    let engine: SupportEngine
    var context = DialogueContext()

    init(engine: SupportEngine = ShopKnowledge.engine) { self.engine = engine }

    mutating func say(_ text: String) -> BotReply { engine.reply(to: text, context: &context) }
    mutating func choose(_ n: Int) -> BotReply { engine.choose(option: n, context: &context) }
}

@Suite("SupportEngine: answers")
struct SupportEngineAnswerTests {
    @Test("a clear question gets a confident answer with the article text and follow-up suggestions")
    func confidentAnswer() throws {
        var chat = Conversation()
        let reply = chat.say("where is my order")
        #expect(reply.action == .answer)
        #expect(reply.intent == "orders.track")
        #expect(reply.text == "Open the link in your e-mail to see where your parcel is.")
        #expect(reply.reason == "confident match")
        #expect(reply.confidence >= ShopKnowledge.engine.config.answerThreshold)
        #expect(reply.suggestions == [Suggestion(intent: "orders.late", title: "My order is late")])
        #expect(reply.wantsHandoff == false)
        #expect(reply.options.isEmpty)
        #expect(chat.context.lastIntent == "orders.track")
        #expect(chat.context.lastCandidates.first == "orders.track")
        #expect(chat.context.pendingOptions.isEmpty)
        #expect(chat.context.turns == 1)
    }

    @Test("each intent answers its own phrasing", arguments: [
        ("how do i return something", "returns.start"),
        ("when will i get my refund", "refunds.status"),
        ("can i pay with paypal", "payment.methods"),
        ("my parcel has not arrived", "orders.late"),
        ("hello", "smalltalk.hello"),
        ("how much is left on my gift card", "giftcards.balance"),
    ])
    func eachIntent(message: String, intent: String) {
        var chat = Conversation()
        let reply = chat.say(message)
        #expect(reply.action == .answer)
        #expect(reply.intent == intent)
    }

    @Test("inline replies are sent as written")
    func inlineReply() {
        var chat = Conversation()
        #expect(chat.say("can i pay with paypal").text == "You can pay by card or PayPal.")
    }

    @Test("a message with typos is still answered", arguments: [
        "wher is my ordr",
        "where is my packge",
        "WHERE is my order??",
        "Where’s my order",
    ])
    func typos(message: String) {
        var chat = Conversation()
        let reply = chat.say(message)
        #expect(reply.action == .answer)
        #expect(reply.intent == "orders.track")
    }

    @Test("a handoff intent is answered and asks for a person")
    func handoff() {
        var chat = Conversation()
        let reply = chat.say("i want to talk to a person")
        #expect(reply.action == .answer)
        #expect(reply.intent == "contact.human")
        #expect(reply.wantsHandoff)
        #expect(reply.text == "I will find a person to help you.")
    }

    @Test("an empty message gets the empty-message reply", arguments: ["", "   ", "?!", "😀👍", "\n\t"])
    func emptyMessage(message: String) {
        var chat = Conversation()
        let reply = chat.say(message)
        #expect(reply.action == .fallback)
        #expect(reply.text == "Your message looks empty. What can I help you with?")
        #expect(reply.reason == "empty message")
        #expect(reply.intent == nil)
        #expect(reply.match == nil)
        #expect(chat.context.turns == 1)
        #expect(chat.context.fallbackStreak == 0)
    }

    @Test("the same message always gets the same reply, from the same or a rebuilt engine")
    func determinism() {
        let rebuilt = SupportEngine(knowledgeBase: ShopKnowledge.knowledgeBase, version: 7)
        let script = ["hello", "gift card", "2", "that didn't help", "wher is my packge", "yes", "no",
                      "what's the weather on mars", "how long does it take", "start a return", "how long does it take"]
        var first = Conversation()
        var second = Conversation()
        var third = Conversation(engine: rebuilt)
        for message in script {
            let a = first.say(message)
            let b = second.say(message)
            let c = third.say(message)
            #expect(a == b, "\(message)")
            #expect(a == c, "\(message)")
        }
        #expect(first.context == second.context)
        #expect(first.context == third.context)
        #expect(ShopKnowledge.engine.matcher.match("where is my parcel") == rebuilt.matcher.match("where is my parcel"))
    }

    @Test("the engine keeps its version and welcome")
    func versionAndWelcome() {
        #expect(ShopKnowledge.engine.version == 7)
        #expect(ShopKnowledge.engine.welcome.hasPrefix("Hi! I'm the help bot."))
        let named = SupportEngine(knowledgeBase: KnowledgeBase(intents: ShopKnowledge.intents,
                                                               articles: ShopKnowledge.articles,
                                                               settings: ["shop_name": "Pebble & Pine"]), version: 1)
        #expect(named.welcome.contains("Pebble & Pine"))
    }
}

@Suite("SupportEngine: clarify and options")
struct SupportEngineClarifyTests {
    static let buy = ReplyOption(n: 1, intent: "giftcards.buy", title: "Buy a gift card")
    static let balance = ReplyOption(n: 2, intent: "giftcards.balance", title: "Gift card balance")

    /// Asks the deliberately ambiguous question and checks the clarify reply.
    func ambiguous(_ chat: inout Conversation, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> BotReply {
        let reply = chat.say("gift card")
        #expect(reply.action == .clarify, sourceLocation: sourceLocation)
        #expect(Set(reply.options.map(\.intent)) == ["giftcards.buy", "giftcards.balance"], sourceLocation: sourceLocation)
        return reply
    }

    @Test("a split match asks only when the best intent is strong enough (ask_threshold); else it falls back")
    func askThreshold() throws {
        var fresh = DialogueContext()
        let asked = ShopKnowledge.engine.reply(to: "gift card", context: &fresh)
        #expect(asked.action == .clarify)
        let score = try #require(asked.match?.best?.score)
        #expect(score >= MatchingConfig().askThreshold)

        // The same split match, with the bar just above its score: not understood, with the close topics offered.
        var matching = MatchingConfig()
        matching.askThreshold = score + 0.01
        let strict = SupportEngine(knowledgeBase: KnowledgeBase(
            intents: ShopKnowledge.intents, articles: ShopKnowledge.articles, settings: ["email": "help@shop.example"],
            matching: matching), version: 1)
        var context = DialogueContext()
        let reply = strict.reply(to: "gift card", context: &context)
        #expect(reply.action == .fallback)
        #expect(reply.reason == "not sure, and too weak to offer choices")
        #expect(context.pendingOptions.isEmpty)
        // A clear match below the bar is still answered: the bar is only for asking.
        var clear = DialogueContext()
        #expect(strict.reply(to: "where is my refund", context: &clear).action == .answer)
    }

    @Test("two overlapping intents give a numbered clarify question")
    func clarify() {
        var chat = Conversation()
        let reply = ambiguous(&chat)
        #expect(reply.options.map(\.n) == [1, 2])
        for option in reply.options {
            #expect(reply.text.contains("\(option.n)) \(option.title)"), "\(reply.text)")
        }
        #expect(reply.text.hasPrefix("I'm not sure I got that. Did you mean: 1) "))
        #expect(reply.text.hasSuffix("? Type a number, or ask in other words."))
        #expect(reply.intent == reply.options.first?.intent)
        #expect(chat.context.pendingOptions == reply.options.map(\.intent))
        #expect(chat.context.lastIntent == nil)
        #expect(reply.reason == "top two intents too close" || reply.reason == "not confident enough")
    }

    @Test("choose(option:) answers the chosen intent")
    func chooseByNumber() {
        var chat = Conversation()
        let options = ambiguous(&chat).options
        let reply = chat.choose(2)
        #expect(reply.action == .answer)
        #expect(reply.intent == options[1].intent)
        #expect(reply.confidence == 1)
        #expect(reply.reason == "picked option 2")
        #expect(chat.context.pendingOptions.isEmpty)
        #expect(chat.context.lastIntent == options[1].intent)
        #expect(chat.context.turns == 2)
    }

    @Test("typing the number or its words picks that option", arguments: [
        ("1", 1), ("2", 2), ("the second one", 2), ("second", 2), ("number 2", 2), ("option 1", 1),
        ("the first one", 1), ("2nd", 2), ("last", 2), ("two", 2), ("one", 1), ("2.", 2), ("#1", 1),
    ])
    func typedNumber(message: String, n: Int) {
        var chat = Conversation()
        let options = ambiguous(&chat).options
        let reply = chat.say(message)
        #expect(reply.action == .answer)
        #expect(reply.intent == options[n - 1].intent)
        #expect(chat.context.pendingOptions.isEmpty)
    }

    @Test("typing an option's title picks it", arguments: ["Buy a gift card", "Gift card balance"])
    func typedTitle(title: String) throws {
        var chat = Conversation()
        let options = ambiguous(&chat).options
        let option = try #require(options.first { $0.title == title })
        let reply = chat.say(title)
        #expect(reply.action == .answer)
        #expect(reply.intent == option.intent)
    }

    @Test("a vague message that fits an open option picks it")
    func vagueMessagePicksOption() {
        var chat = Conversation()
        let options = ambiguous(&chat).options
        let reply = chat.say("gift card please")
        #expect(reply.action == .answer)
        #expect(reply.reason == "picked an option by typing")
        #expect(options.map(\.intent).contains(reply.intent ?? ""))
    }

    @Test("an option number out of range asks again and keeps the question open", arguments: [3, 0, 9, -2])
    func outOfRange(n: Int) {
        var chat = Conversation()
        let options = ambiguous(&chat).options
        let reply = chat.choose(n)
        #expect(reply.action == .clarify)
        #expect(reply.text == "Please pick a number from 1 to 2, or ask in other words.")
        #expect(reply.options == options)
        #expect(reply.reason == "option out of range")
        #expect(chat.context.pendingOptions == options.map(\.intent))
        // The question is still open: a valid number now works.
        #expect(chat.choose(1).intent == options[0].intent)
    }

    @Test("typing a number that is out of range asks again")
    func typedOutOfRange() {
        var chat = Conversation()
        let options = ambiguous(&chat).options
        let reply = chat.say("5")
        #expect(reply.action == .clarify)
        #expect(reply.text == "Please pick a number from 1 to 2, or ask in other words.")
        #expect(chat.context.pendingOptions == options.map(\.intent))
    }

    @Test("choosing when no question is open says so")
    func noOpenQuestion() {
        var chat = Conversation()
        let reply = chat.choose(1)
        #expect(reply.action == .fallback)
        #expect(reply.text == "There is nothing to pick right now. What can I help you with?")
        #expect(reply.reason == "no open question")
        #expect(chat.context.turns == 1)
    }

    @Test("'none of these' or 'no' closes the question", arguments: ["none of these", "no", "neither", "something else"])
    func noneOfThese(message: String) {
        var chat = Conversation()
        _ = ambiguous(&chat)
        let reply = chat.say(message)
        #expect(reply.action == .fallback)
        #expect(reply.text == "Okay. Please tell me a bit more, in other words.")
        #expect(chat.context.pendingOptions.isEmpty)
        #expect(chat.choose(1).reason == "no open question")
    }

    @Test("a new, clear question while options are open is simply answered")
    func newQuestion() {
        var chat = Conversation()
        _ = ambiguous(&chat)
        let reply = chat.say("where is my order")
        #expect(reply.action == .answer)
        #expect(reply.intent == "orders.track")
        #expect(chat.context.pendingOptions.isEmpty)
    }
}

@Suite("SupportEngine: fallback and context")
struct SupportEngineContextTests {
    @Test("unrelated text falls back; the second fallback in a row is worded differently")
    func fallbackStreak() {
        var chat = Conversation()
        let first = chat.say("what's the weather on mars")
        #expect(first.action == .fallback)
        #expect(first.intent == nil)
        #expect(first.text.hasPrefix("Sorry, I didn't get that. Could you say it in other words?"))
        #expect(chat.context.fallbackStreak == 1)
        #expect(chat.context.lastIntent == nil)

        let second = chat.say("what's the weather on mars")
        #expect(second.action == .fallback)
        #expect(second.text != first.text)
        #expect(second.text.hasPrefix("Sorry, I still don't get it."))
        #expect(second.text.contains("help@shop.example"))
        #expect(chat.context.fallbackStreak == 2)

        #expect(chat.say("zebra quantum violin").text.hasPrefix("Sorry, I still don't get it."))
        #expect(chat.context.fallbackStreak == 3)

        // An answer ends the streak.
        #expect(chat.say("where is my order").action == .answer)
        #expect(chat.context.fallbackStreak == 0)
        #expect(chat.say("what's the weather on mars").text.hasPrefix("Sorry, I didn't get that."))
    }

    @Test("a message with no known words falls back with that reason")
    func noKnownWords() {
        var chat = Conversation()
        let reply = chat.say("zebra quantum violin")
        #expect(reply.action == .fallback)
        #expect(reply.reason == "no known words")
        #expect(reply.suggestions.isEmpty)
        #expect(reply.text == "Sorry, I didn't get that. Could you say it in other words?")
    }

    @Test("a follow-up intent only matches right after its parent")
    func followUpOnlyAfterParent() {
        var fresh = Conversation()
        let before = fresh.say("how long does it take")
        #expect(before.intent != "returns.how_long")
        #expect(before.match?.candidates.contains { $0.intent == "returns.how_long" } == false)

        var afterOther = Conversation()
        #expect(afterOther.say("can i pay with paypal").intent == "payment.methods")
        #expect(afterOther.say("how long does it take").intent != "returns.how_long")

        var chat = Conversation()
        #expect(chat.say("i want to return an item").intent == "returns.start")
        let followUp = chat.say("how long does it take")
        #expect(followUp.action == .answer)
        #expect(followUp.intent == "returns.how_long")
        #expect(followUp.text == "Returns take 3 to 5 days to reach us.")

        // Only right after: once another intent was answered, the follow-up is gone again.
        #expect(chat.say("can i pay with paypal").intent == "payment.methods")
        #expect(chat.say("how long does it take").intent != "returns.how_long")
    }

    @Test("out of its context a follow-up is reached when the message says enough: topic words, not a question's shape")
    func followUpThatSaysEnough() throws {
        let knowledgeBase = try KnowledgeLoader.load(files: [
            "intents/orders.yml": """
                - id: orders.track
                  title: Track my order
                  answer: orders/track
                  examples: [where is my order, track my order, tracking number please, has my parcel shipped,
                             where is my parcel]
                - id: orders.delivered_not_received
                  title: Says delivered but not here
                  after: orders.track
                  answer: orders/missing
                  examples: [tracking shows delivered but nothing arrived, it says delivered but i don't have it,
                             marked as delivered but it's not here]
                - id: orders.how_long
                  title: How long delivery takes
                  after: orders.track
                  answer: orders/missing
                  examples: [how long does it take, how long will that take]
                - id: shipping.costs
                  title: Delivery costs
                  answer: orders/track
                  examples: [how much is delivery, what does shipping cost, is delivery free, delivery price]
                """,
            "knowledge/orders/track.md": "---\ntitle: Track\n---\nUse the link in your e-mail.\n",
            "knowledge/orders/missing.md": "---\ntitle: Missing\n---\nLook around the house first.\n",
        ])
        let engine = SupportEngine(knowledgeBase: knowledgeBase, version: 1)
        var context = DialogueContext()
        let turn = engine.respond(to: "tracking says delivered but nothing arrived", context: &context)
        #expect(turn.reply.intent == "orders.delivered_not_received", "\(turn.reply)")
        // The bonus for a follow-up in its context is not given out of it.
        var fresh = DialogueContext()
        let shape = engine.respond(to: "how long does it take", context: &fresh)
        #expect(shape.reply.intent != "orders.how_long", "\(shape.reply)")
        #expect(shape.reply.match?.candidates.contains { $0.intent == "orders.how_long" } == false)
        // Read with an earlier question's words, only the message itself may say enough: "how long does it take"
        // says nothing of a missing parcel, whatever the question before it said.
        let earlier = engine.matcher.topicStems(of: engine.matcher.analyzer.analyze("tracking shows delivered but nothing arrived"))
        let withEarlier = engine.matcher.match("how long does it take", earlierStems: earlier)
        #expect(!withEarlier.candidates.contains { $0.intent == "orders.delivered_not_received" }, "\(withEarlier.candidates)")
        #expect(!withEarlier.candidates.contains { $0.intent == "orders.how_long" }, "\(withEarlier.candidates)")
    }

    @Test("'that didn't help' offers the other candidates of the last question")
    func unhelpful() throws {
        var chat = Conversation()
        #expect(chat.say("where is my order").intent == "orders.track")
        let candidates = chat.context.lastCandidates
        let reply = chat.say("that didn't help")
        #expect(reply.action == .clarify)
        #expect(reply.reason == "answer did not help")
        #expect(reply.text.hasPrefix("Sorry that did not help. Did you mean one of these? 1) "))
        #expect(!reply.options.isEmpty)
        #expect(reply.options.count <= ShopKnowledge.engine.config.maxOptions)
        #expect(!reply.options.contains { $0.intent == "orders.track" })
        #expect(reply.options.map(\.intent) == Array(candidates.filter { $0 != "orders.track" }.prefix(reply.options.count)))
        for option in reply.options { #expect(reply.text.contains("\(option.n)) \(option.title)")) }
        #expect(chat.context.unhelpfulStreak == 1)
        #expect(chat.context.pendingOptions == reply.options.map(\.intent))

        let picked = chat.say("1")
        #expect(picked.action == .answer)
        #expect(picked.intent == reply.options[0].intent)
        #expect(chat.context.unhelpfulStreak == 0)
    }

    @Test("'that didn't help' right after picking a clarify option offers the other options")
    func unhelpfulAfterPickingAnOption() throws {
        var chat = Conversation()
        let question = chat.say("gift card")
        #expect(question.action == .clarify, "\(String(describing: question.match?.candidates.prefix(2)))")
        #expect(question.options.count == 2)
        let picked = chat.choose(1)
        #expect(picked.action == .answer)
        #expect(picked.intent == question.options[0].intent)

        let reply = chat.say("that didn't help")
        #expect(reply.action == .clarify, "\(reply.text)")
        #expect(reply.reason == "answer did not help")
        // The other option of the question comes first; weaker candidates of that question may follow.
        #expect(reply.options.first == ReplyOption(n: 1, intent: question.options[1].intent,
                                                   title: question.options[1].title), "\(reply.options)")
        #expect(!reply.options.contains { $0.intent == picked.intent })
        #expect(chat.context.pendingOptions == reply.options.map(\.intent))
        #expect(chat.say("1").intent == question.options[1].intent)
    }

    @Test("after a clarify, 'that didn't help' refers to that question, not to an older answer")
    func unhelpfulAfterPickingUsesTheClarifyCandidates() throws {
        var chat = Conversation()
        #expect(chat.say("where is my order").intent == "orders.track")
        let question = chat.say("gift card")
        #expect(question.action == .clarify)
        let picked = chat.say("2")
        #expect(picked.intent == question.options[1].intent)
        let reply = chat.say("that did not help")
        #expect(reply.action == .clarify)
        #expect(reply.options.first?.intent == question.options[0].intent, "\(reply.options)")
        #expect(!reply.options.contains { $0.intent == picked.intent })
        #expect(!reply.options.contains { $0.intent == "orders.late" }, "\(reply.options)")
    }

    @Test("'that didn't help' with nothing else to offer asks for other words")
    func unhelpfulWithoutCandidates() {
        let kb = KnowledgeBase(intents: [
            Intent(id: "hello", title: "Say hello", examples: ["hello"], response: .reply("Hi!")),
        ])
        var chat = Conversation(engine: SupportEngine(knowledgeBase: kb, version: 1))
        #expect(chat.say("hello").intent == "hello")
        let reply = chat.say("that was not helpful")
        #expect(reply.action == .fallback)
        #expect(reply.text.hasPrefix("Sorry that did not help. Could you tell me more, in other words?"))
        #expect(reply.offersPerson)
    }

    @Test("'yes' after an answer offers its follow-up topics, then picks the only one")
    func yesWithSuggestions() {
        var chat = Conversation()
        #expect(chat.say("where is my order").intent == "orders.track")
        let reply = chat.say("yes")
        #expect(reply.action == .clarify)
        #expect(reply.text == "Sure. Which one? 1) My order is late")
        #expect(reply.options == [ReplyOption(n: 1, intent: "orders.late", title: "My order is late")])
        let picked = chat.say("yes please")
        #expect(picked.action == .answer)
        #expect(picked.intent == "orders.late")
    }

    @Test("'yes' after an answer without follow-ups, and 'no' after an answer")
    func yesAndNo() {
        var chat = Conversation()
        #expect(chat.say("when will i get my refund").intent == "refunds.status")
        let yes = chat.say("yes")
        #expect(yes.action == .answer)
        #expect(yes.text == "Great! What else can I help you with?")
        #expect(yes.intent == nil)

        let no = chat.say("no thanks")
        #expect(no.action == .answer)
        #expect(no.text == "Okay. Is there anything else I can help you with?")
        #expect(chat.context.lastIntent == "refunds.status")
    }

    @Test("'yes' with nothing to refer to goes to the matcher")
    func yesWithoutContext() {
        var chat = Conversation()
        let reply = chat.say("yes")
        #expect(reply.action == .fallback)
        #expect(reply.match != nil)
    }

    @Test("turns count every customer message")
    func turns() {
        var chat = Conversation()
        _ = chat.say("hello")
        _ = chat.say("")
        _ = chat.say("gift card")
        _ = chat.choose(1)
        #expect(chat.context.turns == 4)
    }
}

@Suite("Matcher: explain data")
struct MatcherExplainTests {
    let matcher = ShopKnowledge.engine.matcher

    @Test("tokens show the spelling corrections and synonyms")
    func tokens() {
        let result = matcher.match("Wher is my packge")
        #expect(result.tokens.map(\.word) == ["wher", "is", "my", "packge"])
        #expect(result.tokens[0].corrected == "where")
        #expect(result.tokens[0].stem == "where")
        #expect(result.tokens[1].corrected == nil)
        #expect(result.tokens[3].corrected == "package")
        #expect(result.tokens[3].synonym == "parcel")
        #expect(result.tokens[3].stem == "parcel")
    }

    @Test("candidates are sorted by score, with their best example and the shared terms")
    func candidates() throws {
        let result = matcher.match("where is my refund")
        #expect(result.candidates.count >= 2)
        #expect(result.candidates.count <= 5)
        let scores = result.candidates.map(\.score)
        #expect(scores == scores.sorted(by: >))
        #expect(scores.allSatisfy { (0...1).contains($0) })
        #expect(Set(result.candidates.map(\.intent)).count == result.candidates.count)
        let best = try #require(result.best)
        #expect(best.intent == "refunds.status")
        #expect(best.title == "Check my refund")
        #expect(best.example == "where is my refund")
        #expect(best.sharedTerms.contains("refund"))
        #expect(best.sharedTerms.contains("where"))
        let stems = Set(result.tokens.map(\.stem))
        for candidate in result.candidates {
            let intent = try #require(ShopKnowledge.knowledgeBase.intent(candidate.intent))
            #expect(intent.examples.contains(candidate.example))
            #expect(!candidate.sharedTerms.isEmpty, "\(candidate)")
            for term in candidate.sharedTerms {
                #expect(term.split(separator: " ").allSatisfy { stems.contains(String($0)) }, "\(term)")
            }
        }
    }

    @Test("the limit caps the number of candidates")
    func limit() {
        #expect(matcher.match("where is my order", limit: 2).candidates.count == 2)
        #expect(matcher.match("where is my order", limit: 1).best?.intent == "orders.track")
    }

    @Test("a message of unknown words has no candidates")
    func unknownWords() {
        let result = matcher.match("zebra quantum violin")
        #expect(result.candidates.isEmpty)
        #expect(result.best == nil)
        #expect(result.tokens.count == 3)
    }

    @Test("follow-ups are candidates only after their parent intent")
    func followUps() {
        #expect(!matcher.match("how long does it take").candidates.contains { $0.intent == "returns.how_long" })
        #expect(matcher.match("how long does it take", lastIntent: "payment.methods").candidates
            .allSatisfy { $0.intent != "returns.how_long" })
        #expect(matcher.match("how long does it take", lastIntent: "returns.start").best?.intent == "returns.how_long")
    }

    @Test("every example is indexed")
    func examples() {
        let total = ShopKnowledge.intents.reduce(0) { $0 + $1.examples.count }
        #expect(matcher.exampleCount == total)
        #expect(matcher.examples.first?.intent == "orders.track")
        #expect(matcher.examples.first?.text == "where is my order")
    }

    @Test("match results round-trip through JSON")
    func codable() throws {
        let result = matcher.match("wher is my packge")
        let data = try JSONEncoder().encode(result)
        #expect(try JSONDecoder().decode(MatchResult.self, from: data) == result)
    }
}

@Suite("DialogueContext")
struct DialogueContextTests {
    @Test("round-trips through JSON with snake_case keys")
    func roundTrip() throws {
        var context = DialogueContext()
        context.lastIntent = "orders.track"
        context.pendingOptions = ["giftcards.buy", "giftcards.balance"]
        context.fallbackStreak = 2
        context.unhelpfulStreak = 1
        context.lastCandidates = ["orders.track", "orders.late"]
        context.turns = 9
        context.offeredPerson = true
        let data = try JSONEncoder().encode(context)
        #expect(try JSONDecoder().decode(DialogueContext.self, from: data) == context)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == [
            "last_intent", "pending_options", "fallback_streak", "unhelpful_streak", "last_candidates", "turns",
            "answered", "mood", "offered_person", "topic_stems",
        ])
        #expect(object["last_intent"] as? String == "orders.track")
        #expect(object["turns"] as? Int == 9)
    }

    @Test("decodes from an empty object to the starting context")
    func emptyObject() throws {
        let context = try JSONDecoder().decode(DialogueContext.self, from: Data("{}".utf8))
        #expect(context == DialogueContext())
        #expect(context.lastIntent == nil)
        #expect(context.pendingOptions.isEmpty)
        #expect(context.turns == 0)
    }

    @Test("decodes a partial object and keeps the defaults for the rest")
    func partialObject() throws {
        let json = #"{"last_intent":"returns.start","turns":3}"#
        let context = try JSONDecoder().decode(DialogueContext.self, from: Data(json.utf8))
        #expect(context.lastIntent == "returns.start")
        #expect(context.turns == 3)
        #expect(context.fallbackStreak == 0)
        #expect(context.lastCandidates.isEmpty)
    }

    @Test("a context saved mid-conversation carries on after decoding")
    func resume() throws {
        var chat = Conversation()
        let options = chat.say("gift card").options
        #expect(options.count == 2)
        let saved = try JSONEncoder().encode(chat.context)
        var restored = Conversation()
        restored.context = try JSONDecoder().decode(DialogueContext.self, from: saved)
        let reply = restored.say("2")
        #expect(reply.action == .answer)
        #expect(reply.intent == options[1].intent)
    }
}

@Suite("A writer's own examples")
struct OwnExamplesTests {
    @Test("typed exactly, an example is answered with its intent, however strict the thresholds; a follow-up's after its parent or when it says enough")
    func exactExampleIsAnswered() throws {
        var matching = MatchingConfig()
        matching.answerThreshold = 0.99
        matching.clarifyThreshold = 0.98
        matching.doubtThreshold = 0
        let kb = KnowledgeBase(intents: [
            Intent(id: "pay", title: "Ways to pay", examples: ["do you take cash", "can i pay by card"],
                   response: .reply("Cash and cards.")),
            Intent(id: "rent", title: "Rent a bike", examples: ["can i rent a bike"], response: .reply("Yes.")),
            Intent(id: "helmet", title: "Helmets", examples: ["is a helmet included", "is that included"],
                   response: .reply("Yes."), after: ["rent"]),
        ], matching: matching)
        let engine = SupportEngine(knowledgeBase: kb, version: 1)
        var chat = DialogueContext()
        for (text, intent) in [("Do you take cash?", "pay"), ("can i rent a bike", "rent"), ("is a helmet included", "helmet")] {
            let reply = engine.respond(to: text, context: &chat).reply
            #expect(reply.action == .answer && reply.intent == intent, "\(text): \(reply)")
        }
        // Out of its context, a follow-up's example counts only when it says enough on its own.
        var fresh = DialogueContext()
        #expect(engine.respond(to: "is that included", context: &fresh).reply.intent != "helmet")
        var saysEnough = DialogueContext()
        #expect(engine.respond(to: "is a helmet included", context: &saysEnough).reply.intent == "helmet")
        // Not the example word for word: the strict thresholds decide.
        var context = DialogueContext()
        #expect(engine.respond(to: "do you take cash or cheques", context: &context).reply.action != .answer)
        #expect(KnowledgeLinter.examplesNotAnswered(by: engine).isEmpty)
    }
}
