/// How many cores building an engine may take.
public enum EngineBuild: Sendable {
    /// As many threads as help (the doubt model learns on two threads while the matcher is built): the fastest
    /// build, for start-up and the command-line tools.
    case allCores
    /// Everything on the calling thread, which steps aside every 0.2 ms (`BuildPacer`) for any chat waiting for a
    /// core: slower, but a server swapping in a new version keeps answering on time while it builds.
    case oneCore

    /// Runs `work` (loading a knowledge base, building its engine) as this build asks: on `.oneCore`, the thread
    /// steps aside as the engine's own build does.
    public func run<Value>(_ work: () throws -> Value) rethrows -> Value {
        switch self {
        case .allCores: return try work()
        case .oneCore: return try BuildPacer.pacing(work)
        }
    }
}

/// Everything needed to answer customers for one knowledge-base version: the knowledge, the matcher built
/// from it and the dialogue policy. Immutable; a new version means a new engine, swapped in whole.
public struct SupportEngine: Sendable {
    public let knowledgeBase: KnowledgeBase
    public let matcher: Matcher
    public let version: Int
    public let messages: BotMessages
    public let moodDetector: MoodDetector
    public let handoffPolicy: HandoffPolicy
    /// Each example's words (as `TextNormalizer.tokens` gives them), for the one intent that has it: a writer's own
    /// example, typed exactly, is answered with its intent whatever the scores say.
    let exampleOwners: [String: String]
    /// `personIntent(of:)`, found once per engine: the "Talk to a person" quick reply and "yes" to the offer use it.
    let personIntent: String?
    /// For an article that ends by offering one of its `suggest:` topics ("Just ask if you want to know how long
    /// delivery takes."), that topic: "yes" right after the answer gets it.
    let offeredTopics: [String: String]

    /// - Parameters:
    ///   - build: `.oneCore` for a version built while chats are being served (see `EngineBuild`).
    ///   - learned: what an engine of the same knowledge base learned before (`matcher.learning`), so the matcher
    ///     does not learn it again.
    public init(knowledgeBase: KnowledgeBase, version: Int, build: EngineBuild = .allCores,
                learned: MatcherLearning? = nil) {
        self.knowledgeBase = knowledgeBase
        self.matcher = build.run { Matcher(knowledgeBase: knowledgeBase, build: build, learned: learned) }
        self.version = version
        self.messages = BotMessages(settings: knowledgeBase.settings)
        self.moodDetector = MoodDetector(threshold: knowledgeBase.handoff.moodThreshold,
                                         servingShopOf: knowledgeBase)
        self.handoffPolicy = HandoffPolicy(moodThreshold: knowledgeBase.handoff.moodThreshold)
        self.exampleOwners = Self.owners(of: knowledgeBase)
        self.personIntent = Self.personIntent(of: knowledgeBase)
        self.offeredTopics = Self.offeredTopics(of: knowledgeBase, matcher: matcher)
    }

    /// Words that make an article's last sentence an offer of more: "Just ask if you want to know…".
    static let offerOpeners = ["just ask", "want to know", "would you like", "do you want", "ask me"]

    /// Whether an answer's last sentence offers more ("Just ask if you want to know how long delivery takes."), so
    /// that "yes" right after it means that next topic.
    static func endsWithOffer(_ answer: String) -> String? {
        guard let last = KnowledgeLinter.wholeSentences(of: answer).last else { return nil }
        let sentence = last.lowercased()
        return offerOpeners.contains(where: { sentence.contains($0) }) ? last : nil
    }

    /// Each article intent whose last sentence offers more, with the `suggest:` topic that sentence matches best.
    static func offeredTopics(of knowledgeBase: KnowledgeBase, matcher: Matcher) -> [String: String] {
        var offered: [String: String] = [:]
        for intent in knowledgeBase.intents where !intent.suggest.isEmpty {
            guard case .article = intent.response,
                  let last = endsWithOffer(knowledgeBase.answerText(for: intent)) else { continue }
            // The next topic the sentence is closest to; when it shares no word with any ("Just ask if you want to
            // make one."), the first one listed, as the writing guide asks writers to order them.
            let ranked = matcher.match(last, limit: knowledgeBase.intents.count)
            let pick = ranked.candidates.first { intent.suggest.contains($0.intent) }?.intent
            offered[intent.id] = pick ?? intent.suggest.first { knowledgeBase.intent($0) != nil }
        }
        return offered
    }

    /// Examples two intents share (a lint error) belong to neither.
    static func owners(of knowledgeBase: KnowledgeBase) -> [String: String] {
        var owners: [String: String?] = [:]
        for intent in knowledgeBase.intents {
            for example in intent.examples {
                let key = TextNormalizer.tokens(example).joined(separator: " ")
                guard !key.isEmpty else { continue }
                if let owner = owners[key], owner != intent.id { owners[key] = .some(nil) } else { owners[key] = intent.id }
            }
        }
        return owners.compactMapValues { $0 }
    }

    /// The same engine under another version number; nothing is rebuilt.
    public func renumbered(_ version: Int) -> SupportEngine { SupportEngine(copying: self, version: version) }

    private init(copying other: SupportEngine, version: Int) {
        knowledgeBase = other.knowledgeBase
        matcher = other.matcher
        self.version = version
        messages = other.messages
        moodDetector = other.moodDetector
        handoffPolicy = other.handoffPolicy
        exampleOwners = other.exampleOwners
        personIntent = other.personIntent
        offeredTopics = other.offeredTopics
    }

    /// The bot's reply to a customer message together with the customer's mood and whether a person should take
    /// over. When the customer is upset and the bot carries on, the reply starts with an apology.
    public func respond(to text: String, context: inout DialogueContext) -> BotTurn {
        let words = TextNormalizer.tokens(text)
        let mood = moodDetector.read(text, words: words, state: &context.mood)
        let previous = context.lastIntent
        let earlierStems = context.topicStems
        // "yes" (or "ok", "please") right after the bot offered a person takes the offer.
        let takesOffer = context.offeredPerson && ContextPhrase.detect(words) == .yes
        var reply: BotReply
        if takesOffer {
            context.turns += 1
            reply = personIntent.map { answer($0, confidence: 1, result: nil, reason: "took the offer of a person",
                                              context: &context) }
                ?? BotReply(action: .answer, text: messages.anythingElse, confidence: 1, reason: "took the offer of a person")
        } else {
            reply = self.reply(to: text, words: words, context: &context)
        }
        // The same article again: a follow-up on the topic ("and to germany?") just gets its answer; the same
        // question asked again means the answer did not help, so a person is offered too.
        if reply.repeatsEarlierAnswer && !(reply.intent == previous && FollowUp.looksLikeOne(words))
            && asksAgain(reply, earlierStems: earlierStems) {
            reply = offeringPerson(reply)
        }
        context.offeredPerson = reply.offersPerson
        return turn(reply, mood: mood, askedForPerson: takesOffer || PersonRequest.detect(words: words), context: context)
    }

    /// Like `choose(option:context:)`, with the mood carried over and a handoff decision.
    public func respond(choosing option: Int, context: inout DialogueContext) -> BotTurn {
        let mood = MoodReading(message: 0, conversation: context.mood.conversation, reasons: [],
                               isAngry: context.mood.conversation >= moodDetector.threshold, isUpset: false)
        let reply = choose(option: option, context: &context)
        context.offeredPerson = false
        return turn(reply, mood: mood, askedForPerson: false, context: context)
    }

    func turn(_ reply: BotReply, mood: MoodReading, askedForPerson: Bool, context: DialogueContext) -> BotTurn {
        var reply = reply
        let handoff = handoffPolicy.decide(reply: reply, mood: mood, askedForPerson: askedForPerson, context: context,
                                           intent: reply.intent.flatMap { knowledgeBase.intent($0) })
        if mood.isUpset && handoff == nil && reply.action != .fallback && !BotMessages.isApology(reply.text) {
            reply.text = messages.apology + " " + reply.text
        }
        return BotTurn(reply: reply, mood: mood, handoff: handoff)
    }

    public var config: MatchingConfig { knowledgeBase.matching }

    /// Top two intents whose closest examples match equally well (within this) are treated as a tie.
    static let similarityTie = 0.005
    /// With a doubt model, a close call the score rules would ask about (the best scores at least `ask_threshold`)
    /// is answered (when the doubt is low) only in messages of at least this many words; shorter ones ("gift card")
    /// are vague however sure the model is, so the customer picks.
    public static let wordsToSkipAsking = 4
    public var welcome: String { messages.welcome }

    /// The bot's reply to a customer message; updates the conversation's context.
    public func reply(to text: String, context: inout DialogueContext) -> BotReply {
        reply(to: text, words: TextNormalizer.tokens(text), context: &context)
    }

    /// `words` are `TextNormalizer.tokens(text)`, computed once per message by `respond`.
    func reply(to text: String, words: [String], context: inout DialogueContext) -> BotReply {
        context.turns += 1
        guard !words.isEmpty else {
            return BotReply(action: .fallback, text: messages.emptyMessage, reason: "empty message")
        }
        if let phrase = ContextPhrase.detect(words), let reply = replyInContext(phrase, context: &context) {
            return reply
        }
        let limit = max(8, config.maxOptions)
        var result = matcher.match(text, lastIntent: context.lastIntent, topic: context.topic, limit: limit)
        // "hi do u deliver to the states": the question after a greeting is what to answer.
        if let rest = Greeting.rest(after: words) {
            let restResult = matcher.match(rest.joined(separator: " "), lastIntent: context.lastIntent,
                                           topic: context.topic, limit: limit)
            if let best = restResult.best, best.score >= config.clarifyThreshold,
               let intent = knowledgeBase.intent(best.intent), case .article = intent.response {
                result = restResult
            }
        }
        // "are you a real person?" asks about the bot: a topic that hands to a person is not its answer.
        if PersonRequest.asksAboutTheBot(words) {
            let before = result.candidates.count
            result.candidates.removeAll { candidate in
                guard let intent = knowledgeBase.intent(candidate.intent), intent.handoff else { return false }
                return Set(intent.tags.map { $0.lowercased() }).isDisjoint(with: HandoffPolicy.highRiskTags)
            }
            // The doubt was worked out for the best candidate, which may be gone: the scores decide instead.
            if result.candidates.count != before { result.doubt = nil }
        }
        if !context.pendingOptions.isEmpty, let best = result.best, context.pendingOptions.contains(best.intent),
           best.score >= config.clarifyThreshold {
            return answer(best.intent, confidence: best.score, result: result, reason: "picked an option by typing",
                          context: &context)
        }
        let before = context
        var decided = decide(result, context: &context)
        var readAlone = true
        if let followUp = followUp(text, words: words, alone: decided, before: before, limit: limit) {
            context = followUp.context
            decided = followUp.reply
            readAlone = false
        }
        // A writer's own example, typed exactly, gets its intent whatever the scores and the doubt say; a follow-up
        // intent's only right after its parent ("how long does it take" means nothing on its own), or when the
        // matcher let it take part because it says enough on its own. Judged on the context as it was before the
        // decision, which is then undone.
        if let owner = exampleOwners[words.joined(separator: " ")], decided.action != .answer || decided.intent != owner,
           let intent = knowledgeBase.intent(owner),
           intent.after.isEmpty || intent.after.contains(before.topic ?? "") || intent.after.contains(before.lastIntent ?? "")
            || result.candidates.contains(where: { $0.intent == owner }) {
            context = before
            let confidence = result.candidates.first { $0.intent == owner }?.score ?? 1
            decided = answer(owner, confidence: confidence, result: result,
                             reason: "the writer's own example, word for word", context: &context)
            readAlone = true
        }
        // The question that set an article's topic is kept (its known words only) for the follow-ups after it; a
        // follow-up on the same article adds its words to the earlier ones.
        if decided.action == .answer, let intent = decided.intent, context.answered.last == intent {
            let stems = matcher.topicStems(of: decided.match?.tokens ?? result.tokens)
            let sameTopic = !readAlone || before.answered.last == intent
            context.topicStems = sameTopic ? Array((before.topicStems + stems).suffix(Self.topicStemLimit)) : stems
        }
        // "ok ill try paypal", "fair enough", "good to know": the customer took in the answer; nothing to match (nor,
        // right after an answer, a topic to ask about: "brilliant, ordering now"; a first "ok servicing" is asked about).
        let vagueAfterAnswer = decided.action == .clarify && decided.reason == Self.vagueTopicReason
            && before.answered.last != nil && before.lastIntent == before.answered.last
        let unsure = decided.action == .fallback || vagueAfterAnswer
        if unsure, Acknowledgement.detect(words, text: text),
           Set(words).isDisjoint(with: MoodLexicon.trouble) {
            context = before
            return BotReply(action: .answer, text: messages.anythingElse, confidence: 1, reason: "took in the answer")
        }
        // "ok found it, thanks" / "caps lock was on haha. cheers": the rest of a closing is news, not a question. When
        // the whole message falls back, the thanks or goodbye in it is answered.
        // Only a short closing with no trouble in it ("thanks, still not working" is a miss): the streak of misses
        // stays as it was, so a real second miss still offers a person.
        if decided.action == .fallback, words.count > 1, words.count <= 8, let closing = Closing.words(in: words),
           Set(words).isDisjoint(with: MoodLexicon.trouble), !words.contains("not"), !words.contains("but") {
            let closingResult = matcher.match(closing.joined(separator: " "), lastIntent: nil, topic: nil, limit: 3)
            if let best = closingResult.best, best.score >= config.answerThreshold {
                let streak = before.fallbackStreak
                let reply = answer(best.intent, confidence: best.score, result: closingResult,
                                   reason: "a closing: answered its \"\(closing.joined(separator: " "))\"", context: &context)
                context.fallbackStreak = streak
                return reply
            }
        }
        return decided
    }

    static let vagueTopicReason = "a topic in a word or two: which part of it?"

    /// A message answered alone with less doubt than this ("are you open tomorrow" after the phone number) is a
    /// question of its own, however short.
    static let sureDoubt = 0.05
    /// A follow-up read with the earlier question goes back to its topic only when the topic leads the next intent by
    /// this much.
    static let topicLead = 0.02
    /// At most this many stems of earlier questions are kept for follow-ups.
    static let topicStemLimit = 24

    /// A message that leans on the question before it ("how long do i wait" after "my account is locked", "and to
    /// austria?"), read together with that question's words: the answer, and the context it leaves, when that reading
    /// is sure enough and the message alone falls back (or is answered with a topic that is no neighbour of the
    /// earlier one, and the pair goes back to it).
    /// Topics that hand to a person are never reached this way: a person is for what the customer said, not for
    /// what the words of two questions add up to.
    func followUp(_ text: String, words: [String], alone: BotReply, before: DialogueContext, limit: Int)
        -> (reply: BotReply, context: DialogueContext)? {
        // Only a message that leans on the earlier one; a "Did you mean…?" of its own ("gift card") stays.
        guard let topic = before.answered.last, !before.topicStems.isEmpty, !alone.wantsHandoff,
              alone.action != .clarify, !(alone.action == .answer && alone.intent == topic),
              alone.match?.candidates.isEmpty == false,  // "zxqv blorp" leans on nothing
              FollowUp.leansOnContext(words), Closing.words(in: words) == nil,
              !Acknowledgement.detect(words, text: text) else { return nil }
        let paired = matcher.match(text, lastIntent: before.lastIntent, topic: before.topic,
                                   earlierStems: before.topicStems, limit: limit)
        guard let best = paired.best, let intent = knowledgeBase.intent(best.intent), !intent.handoff,
              case .article = intent.response else { return nil }
        // A message answered alone moves on, unless it leans on the topic and the pair goes back to it, and what it
        // was answered with alone is no neighbour of the topic ("and how quick" after delivery costs is delivery times;
        // "how long will that take" after deleting an account is not).
        if alone.action == .answer {
            guard best.intent == topic, let answered = alone.intent, let aloneDoubt = alone.match?.doubt,
                  aloneDoubt >= Self.sureDoubt else { return nil }
            let neighbours = Set(knowledgeBase.intent(topic)?.suggest ?? []).union(before.lastCandidates.prefix(4))
            if neighbours.contains(answered) { return nil }
        }
        if best.intent == topic {
            // Back to the topic: the doubt model learned from questions asked on their own, and two questions read as
            // one look far from any single example, so it is not asked. The topic must lead clearly instead.
            guard paired.lead >= Self.topicLead else { return nil }
        } else if let doubt = paired.doubt {
            guard doubt < config.doubtThreshold else { return nil }
        } else {
            guard best.score >= config.answerThreshold else { return nil }
        }
        var context = before
        var reply = answer(best.intent, confidence: best.score, result: paired,
                           reason: "a follow-up, read with the question before it", context: &context)
        reply.repeatsEarlierAnswer = false
        return (reply, context)
    }

}
