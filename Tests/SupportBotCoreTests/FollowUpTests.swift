import Foundation
import Testing
@testable import SupportBotCore

/// Whole-conversation behaviour on the demo shop: follow-ups read with the question before them, a greeting in front
/// of a question, a customer taking in an answer, a topic named in a word or two, and "yes" to an article's offer.
@Suite("Conversations: follow-ups and short replies")
struct FollowUpTests {
    static let engine = Result { SupportEngine(knowledgeBase: try DemoKnowledgeBase.load(), version: 1) }

    static func chat() throws -> Conversation { Conversation(engine: try engine.get()) }

    @Test("a short follow-up that means nothing alone is read with the question before it")
    func followUpReadWithTheEarlierQuestion() throws {
        var chat = try Self.chat()
        var alone = DialogueContext()
        #expect(try Self.engine.get().reply(to: "how long do i wait", context: &alone).action == .fallback)
        #expect(chat.say("it says my account is locked").intent == "account.login")
        let reply = chat.say("how long do i wait")
        #expect(reply.action == .answer)
        #expect(reply.intent == "account.login")
        #expect(reply.reason == "a follow-up, read with the question before it")
        #expect(!reply.repeatsEarlierAnswer, "a follow-up is not the same question asked again")
        // Only words the knowledge base knows are kept for it.
        #expect(!chat.context.topicStems.isEmpty)
        #expect(chat.context.topicStems.allSatisfy { !$0.contains("@") })
    }

    @Test("a follow-up answered alone with a neighbour of the topic keeps that answer; an unrelated one goes back")
    func followUpNeighbours() throws {
        var chat = try Self.chat()
        #expect(chat.say("how much is delivery").intent == "shipping.costs")
        #expect(chat.say("and how quick").intent == "shipping.times")
        var other = try Self.chat()
        #expect(other.say("please delete my account and all my data").intent == "account.delete_data")
        #expect(other.say("how long will that take then").intent == "account.delete_data")
    }

    @Test("a new question, a closing, or words the bot doesn't know are not taken as follow-ups")
    func notFollowUps() throws {
        var chat = try Self.chat()
        #expect(chat.say("how much is delivery to ireland").intent == "shipping.costs")
        let thanks = chat.say("thanks a million")
        #expect(thanks.intent == "smalltalk.thanks", "\(thanks.text)")
        var again = try Self.chat()
        #expect(again.say("where is my order").intent == "orders.track")
        #expect(again.say("zxqv blorp").action == .fallback)
        #expect(again.say("gift card").action == .clarify)
        var sure = try Self.chat()
        #expect(sure.say("number to call?").intent == "contact.phone")
        #expect(sure.say("are you open tomorrow").intent == "contact.hours")
        // A farewell is not a follow-up on the last topic.
        var bye = try Self.chat()
        #expect(bye.say("how much is delivery").intent == "shipping.costs")
        #expect(bye.say("bye, have a good day").intent == "smalltalk.bye")
        #expect(Closing.words(in: TextNormalizer.tokens("bye, have a nice day")) == ["have", "a", "nice", "day"])
        #expect(Closing.words(in: TextNormalizer.tokens("have a good day out in the hills")) == nil)
    }

    @Test("the same article for a new question is no sign that it did not help; the same question again is")
    func sameArticleNewQuestion() throws {
        let engine = try Self.engine.get()
        var context = DialogueContext()
        #expect(engine.respond(to: "where's your shop, i'm in manchester", context: &context).reply.intent == "contact.store")
        let next = engine.respond(to: "can i do click and collect then", context: &context).reply
        #expect(next.intent == "contact.store")
        #expect(!next.offersPerson, "\(next.text)")
        var again = DialogueContext()
        _ = engine.respond(to: "where is my order", context: &again)
        let repeated = engine.respond(to: "wher is my packge??", context: &again).reply
        #expect(repeated.intent == "orders.track")
        #expect(repeated.offersPerson)
    }

    @Test("a greeting in front of a question: the question is answered")
    func greetingThenQuestion() throws {
        let engine = try Self.engine.get()
        // Read whole, the greeting wins; the question after it is what gets answered.
        #expect(engine.matcher.match("hello there, can i return boots").best?.intent == "smalltalk.hello")
        var chat = try Self.chat()
        #expect(chat.say("hello there, can i return boots").intent == "returns.start")
        var hello = try Self.chat()
        #expect(hello.say("hello, i have a question").intent == "smalltalk.hello")
    }

    @Test("taking in an answer is not a miss, and the streak of misses stays as it was")
    func acknowledgements() throws {
        for text in ["ok ill try paypal", "fair enough", "good to know", "brilliant, ordering now", "bit annoying tbh but ok"] {
            var chat = try Self.chat()
            _ = chat.say("what payment methods do you accept")
            let reply = chat.say(text)
            #expect(reply.action == .answer, "\(text): \(reply.text)")
            #expect(reply.reason == "took in the answer", "\(text): \(reply.reason)")
        }
        // A nod with a topic word, as the first message, is a topic to ask about, not a nod to an answer; right after
        // an answer, it is a nod (the bike shop of Tests/Fixtures/shops/bikes).
        let bikes = SupportEngine(knowledgeBase: try MoodShopAdaptationTests.bikeShop(), version: 1)
        var first = Conversation(engine: bikes)
        let topic = first.say("ok servicing")
        #expect(topic.action == .clarify && topic.reason == SupportEngine.vagueTopicReason, "\(topic.reason)")
        var afterAnswer = Conversation(engine: bikes)
        #expect(afterAnswer.say("how much is a basic service").action == .answer)
        #expect(afterAnswer.say("ok servicing").reason == "took in the answer")
        var missed = try Self.chat()
        #expect(missed.say("zxqv blorp").action == .fallback)
        #expect(missed.say("fair enough").reason == "took in the answer")
        #expect(missed.context.fallbackStreak == 1)
        for text in ["ok how long do i have to send it back", "ok but it still does not work", "fine?"] {
            #expect(!Acknowledgement.detect(TextNormalizer.tokens(text), text: text), "\(text)")
        }
    }

    @Test("a topic in a word or two asks which part of it is meant")
    func vagueTopic() throws {
        var chat = try Self.chat()
        let reply = chat.say("about my order")
        #expect(reply.action == .clarify)
        #expect(reply.options.count >= 2)
        #expect(reply.options.allSatisfy { $0.intent.hasPrefix("orders.") }, "\(reply.options)")
        #expect(chat.say("1").intent == reply.options[0].intent)
    }

    @Test("'yes' after an article that ends by offering one of its next topics answers that topic")
    func yesToTheOffer() throws {
        let engine = try Self.engine.get()
        #expect(engine.offeredTopics["shipping.costs"] == "shipping.times")
        var chat = try Self.chat()
        #expect(chat.say("how much is delivery").intent == "shipping.costs")
        let reply = chat.say("yes")
        #expect(reply.intent == "shipping.times")
        #expect(reply.reason == "yes to the offer at the end of the answer")
    }
}

@Suite("Text: chat spelling")
struct ChatSpellingTests {
    @Test("chat spellings read as the words they stand for, on both the ASCII and the Unicode path")
    func chatSpelling() {
        #expect(TextNormalizer.tokens("how r u") == ["how", "are", "you"])
        #expect(TextNormalizer.tokens("whats ur phone number pls") == ["what", "is", "your", "phone", "number", "please"])
        #expect(TextNormalizer.tokens("can u help tmrw, café") == ["can", "you", "help", "tomorrow", "cafe"])
    }
}
