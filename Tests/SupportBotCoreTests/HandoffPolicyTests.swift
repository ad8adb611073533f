import Foundation
import Testing
@testable import SupportBotCore

/// A small shop loaded from knowledge files, with one handoff topic tagged fraud and one without tags.
enum HandoffShop {
    static let files: [String: String] = [
        "knowledge/_settings.yml": """
            shop_name: Pebble & Pine
            handoff:
              mood_threshold: 0.5
            """,
        "intents/shop.yml": """
            - id: orders.track
              title: Track my order
              answer: orders/track
              tags: [orders]
              examples:
                - where is my order
                - track my order
                - where is my parcel
                - has my order shipped yet
            - id: returns.start
              title: Start a return
              answer: returns/start
              examples:
                - i want to return an item
                - how do i return something
                - send an item back
            - id: fraud.report
              title: Report a payment I did not make
              reply: A person from our payments team will look at this with you.
              handoff: true
              tags: [fraud, payments]
              examples:
                - someone used my card without permission
                - there is a payment i did not make
                - fraudulent charge on my card
            - id: warranty.claim
              title: Make a warranty claim
              reply: A person will help you with the claim.
              handoff: true
              examples:
                - i want to make a warranty claim
                - warranty claim for a broken kettle
            """,
        "knowledge/orders/track.md": """
            ---
            title: Track your order
            ---
            Open the link in your e-mail to see where your parcel is.
            """,
        "knowledge/returns/start.md": """
            ---
            title: Start a return
            ---
            Log in, open your order and tap Return.
            """,
    ]

    static let engine: SupportEngine = {
        do {
            return SupportEngine(knowledgeBase: try KnowledgeLoader.load(files: files), version: 1)
        } catch {
            fatalError("the handoff test shop does not load: \(error)")
        }
    }()
}

/// A conversation through `respond(to:)`, which adds mood and the handoff decision.
private struct Chat {
    var context = DialogueContext()
    mutating func say(_ text: String) -> BotTurn { HandoffShop.engine.respond(to: text, context: &context) }
}

private let calm = MoodReading(message: 0, conversation: 0, reasons: [], isAngry: false, isUpset: false)

@Suite("HandoffPolicy: triggers")
struct HandoffTriggerTests {
    @Test("a normal answer hands nothing off")
    func normalAnswer() {
        var chat = Chat()
        let turn = chat.say("where is my order")
        #expect(turn.reply.action == .answer)
        #expect(turn.reply.intent == "orders.track")
        #expect(turn.handoff == nil, "\(String(describing: turn.handoff))")
    }

    @Test("an angry customer is handed off")
    func angry() throws {
        var chat = Chat()
        let turn = chat.say("this is a joke, where is my order?!")
        #expect(turn.mood.isAngry)
        let handoff = try #require(turn.handoff)
        #expect(handoff.reason == .angry)
        #expect(handoff.level >= .mediumHigh)
    }

    @Test("asking for a person is handed off at medium-low")
    func askedForPerson() throws {
        var chat = Chat()
        let turn = chat.say("can I talk to a human")
        let handoff = try #require(turn.handoff)
        #expect(handoff.reason == .askedForPerson, "\(handoff)")
        #expect(handoff.triggers == [.askedForPerson])
        #expect(handoff.level == .mediumLow)
    }

    @Test("two fallbacks in a row offer a person and don't hand off; one does not offer")
    func notUnderstood() throws {
        var chat = Chat()
        let first = chat.say("blorf zzqx wibble")
        #expect(first.reply.action == .fallback)
        #expect(first.handoff == nil && !first.reply.offersPerson)
        let second = chat.say("quonk vlarp snib")
        #expect(second.reply.action == .fallback)
        #expect(second.handoff == nil)
        #expect(second.reply.offersPerson)
        #expect(second.reply.text.contains("talk to a person"))
        #expect(second.reply.suggestions.last?.title == BotMessages.talkToAPerson)
        // The customer takes the offer: the quick reply's words ask for a person.
        var words = chat
        let taken = words.say(BotMessages.talkToAPerson)
        #expect(try #require(taken.handoff).reason == .askedForPerson)
        // So does a plain "yes".
        let yes = chat.say("yes")
        #expect(try #require(yes.handoff).reason == .askedForPerson)
    }

    @Test("a closing with trouble in it is a miss, not thanks; a miss after a closing still offers a person")
    func closingsWithTrouble() throws {
        var chat = Chat()
        _ = chat.say("blorf zzqx wibble")
        let stillBroken = chat.say("i did what you said and it still fails, thanks")
        #expect(stillBroken.reply.action == .fallback)
        #expect(stillBroken.reply.offersPerson)
    }

    @Test("the same question asked again gets its answer and the offer of a person; a follow-up just its answer")
    func sameArticleTwice() throws {
        var chat = Chat()
        let first = chat.say("where is my order")
        #expect(first.handoff == nil)
        #expect(chat.context.answered == ["orders.track"])
        let second = chat.say("has my order shipped yet")
        #expect(second.reply.intent == "orders.track")
        #expect(second.reply.repeatsEarlierAnswer)
        #expect(second.handoff == nil)
        #expect(second.reply.offersPerson)
        let followUp = chat.say("and the tracking number?")
        #expect(followUp.reply.intent == "orders.track")
        #expect(followUp.handoff == nil)
        #expect(!followUp.reply.offersPerson)
    }

    @Test("a different article is not a repeat")
    func differentArticle() {
        var chat = Chat()
        _ = chat.say("where is my order")
        let turn = chat.say("how do i return something")
        #expect(turn.reply.intent == "returns.start")
        #expect(!turn.reply.repeatsEarlierAnswer)
        #expect(turn.handoff == nil)
    }

    @Test("an intent marked handoff: true is a handoff topic; its tags route and raise it")
    func handoffTopic() throws {
        var chat = Chat()
        let fraud = chat.say("someone used my card without permission")
        #expect(fraud.reply.intent == "fraud.report")
        let fraudHandoff = try #require(fraud.handoff)
        #expect(fraudHandoff.reason == .handoffTopic)
        #expect(fraudHandoff.tags == ["fraud", "payments"])
        #expect(fraudHandoff.level == .high)

        var other = Chat()
        let warranty = other.say("i want to make a warranty claim")
        #expect(warranty.reply.intent == "warranty.claim")
        let warrantyHandoff = try #require(warranty.handoff)
        #expect(warrantyHandoff.reason == .handoffTopic)
        #expect(warrantyHandoff.level == .medium)
    }

    @Test("a failure on our side hands off at medium-high")
    func internalError() throws {
        let policy = HandoffPolicy()
        let decision = try #require(policy.decide(reply: nil, mood: calm, askedForPerson: false,
                                                  context: DialogueContext(), intent: nil, failed: true))
        #expect(decision.reason == .internalError)
        #expect(decision.level == .mediumHigh)
        #expect(policy.decide(reply: nil, mood: calm, askedForPerson: false, context: DialogueContext(),
                              intent: nil, failed: false) == nil)
    }

    @Test("an upset but not angry customer gets an apology before the answer")
    func apology() {
        var chat = Chat()
        let turn = chat.say("this is annoying, where is my order")
        #expect(turn.mood.isUpset, "\(turn.mood)")
        #expect(!turn.mood.isAngry, "\(turn.mood)")
        #expect(turn.handoff == nil)
        #expect(turn.reply.intent == "orders.track")
        #expect(turn.reply.text.hasPrefix("I'm sorry this happened. "), "\(turn.reply.text)")

        var calmChat = Chat()
        let plain = calmChat.say("where is my order")
        #expect(!plain.reply.text.hasPrefix("I'm sorry"), "\(plain.reply.text)")
    }
}

@Suite("HandoffPolicy: levels")
struct HandoffLevelTests {
    private func level(_ triggers: [HandoffReason], mood: Double = 0, tags: [String] = []) -> EscalationLevel {
        HandoffPolicy.level(for: triggers, mood: mood, threshold: 0.5, tags: tags).0
    }

    @Test("asking for a person starts at medium-low")
    func askedForPerson() {
        #expect(level([.askedForPerson]) == .mediumLow)
        #expect(HandoffReason.askedForPerson.baseLevel == .mediumLow)
    }

    @Test("an angry customer with mood at or above 0.8 is high; just over the threshold is medium-high")
    func angryMood() {
        #expect(level([.angry], mood: 0.8) == .high)
        #expect(level([.angry], mood: 0.95) == .high)
        #expect(level([.angry], mood: 0.6) == .mediumHigh)
    }

    @Test("a fraud topic is high whatever the trigger")
    func fraudTag() {
        #expect(level([.askedForPerson], tags: ["fraud"]) == .high)
        #expect(level([.askedForPerson], tags: ["Fraud"]) == .high)
        #expect(level([.handoffTopic], tags: ["legal"]) == .high)
    }

    @Test("a billing topic raises low levels to medium and leaves higher ones")
    func billingTag() {
        #expect(level([.askedForPerson], tags: ["billing"]) == .medium)
        #expect(level([.notUnderstood], tags: ["billing"]) == .medium)
        #expect(level([.internalError], tags: ["billing"]) == .mediumHigh)
        #expect(level([.askedForPerson], tags: ["shipping"]) == .mediumLow)
    }

    @Test("a mood between 0.3 and the threshold raises the level one step")
    func upsetMood() {
        #expect(level([.askedForPerson], mood: 0.35) == .medium)
        #expect(level([.answerDidNotHelp], mood: 0.45) == .mediumHigh)
        #expect(level([.askedForPerson], mood: 0.29) == .mediumLow)
    }

    @Test("the explanation says how the level was reached")
    func explanation() {
        let (level, explanation) = HandoffPolicy.level(for: [.askedForPerson], mood: 0.35, threshold: 0.5,
                                                       tags: ["billing"])
        #expect(level == .medium)
        #expect(explanation.contains("asked_for_person"), "\(explanation)")
        #expect(explanation.contains("one step up"), "\(explanation)")
    }
}

@Suite("PersonRequest and LeaveQueueRequest")
struct HandoffPhraseTests {
    @Test("asking for a person is recognised", arguments: [
        "talk to a human", "agent please", "real person", "can I speak to someone?", "Human", "I want a real person now",
        "can a person sort this out please", "are you able to put me through to an agent?",
        "is this live chat? i want a human agent", "that doesn't help, can someone actually chase it",
        "could somebody sort me a replacement before my trip", "i need someone to look at my tent",
        "please get someone to call me", "can i leave a message for them",
    ])
    func asksForPerson(text: String) {
        #expect(PersonRequest.detect(text))
    }

    @Test("other messages are not a request for a person", arguments: [
        "my agent number", "where is my order", "the delivery person left it outside", "",
        "are you a real person", "r u a real human?", "is this a real person or a bot",
        "do i need a person to sign for the parcel?", "can a person use two discount codes?",
        "can someone else collect my parcel", "can anyone sign for the delivery", "will someone be in to sign for it",
        "does anyone know if you sell stoves", "has anyone checked my return yet",
    ])
    func doesNotAskForPerson(text: String) {
        #expect(!PersonRequest.detect(text))
    }

    @Test("changing one's mind in the queue is recognised", arguments: [
        "never mind", "forget it", "nvm", "cancel", "oh never mind, thanks", "I found it",
    ])
    func leavesQueue(text: String) {
        #expect(LeaveQueueRequest.detect(text))
    }

    @Test("other messages do not leave the queue", arguments: [
        "where is my order", "hello?", "",
        "never mind the colour, I still really want to know where my order is today",
        "i found it was charged twice", "please cancel that order", "don't forget it",
    ])
    func staysInQueue(text: String) {
        #expect(!LeaveQueueRequest.detect(text))
    }

    @Test("the phrase index finds the same first phrase as searching for every phrase in turn")
    func phraseIndexMatchesSearch() {
        let phrases = ["talk to a human", "a human", "human", "to a", "call me back", "back", "me back please"]
            .map(TextNormalizer.tokens)
        let index = PhraseIndex(phrases)
        var generator = SystemRandomNumberGenerator()
        let vocabulary = ["talk", "to", "a", "human", "call", "me", "back", "please", "order"]
        var found = 0
        var differing: [[String]] = []
        for _ in 0..<2000 {
            let words = (0..<Int.random(in: 0...7, using: &generator)).map { _ in
                vocabulary.randomElement(using: &generator)!
            }
            let expected = words.firstPhrase(of: phrases)
            if index.first(in: words) != expected { differing.append(words) }
            if expected != nil { found += 1 }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
        #expect(found > 100)
    }
}

@Suite("Why a chat came to a person, in words")
struct HandoffInWordsTests {
    @Test("reasons and the mood's strongest evidence, no rule trace")
    func inWords() {
        let words = HandoffReason.inWords(
            triggers: ["angry", "asked_for_person"],
            moodReasons: [MoodReason(kind: .angerWord, evidence: "useless", weight: 0.55),
                          MoodReason(kind: .repetition, evidence: "again", weight: 0.25),
                          MoodReason(kind: .calming, evidence: "sorry", weight: -0.1)],
            tags: [])
        #expect(words.hasPrefix("Upset: "))
        #expect(words.contains("useless") && words.contains("again") && !words.contains("sorry"))
        #expect(words.hasSuffix("Asked for a person."))
        #expect(HandoffReason.inWords(triggers: ["handoff_topic"], moodReasons: [], tags: ["fraud", "payment"])
                == "The topic needs a person (fraud, payment).")
    }
}
