// Deciding what to say once a message is matched: answer, ask which one, fall back, offer a person; picking an
// option; replying to what a message says about the conversation ("yes", "the second one", "that did not help").

extension SupportEngine {
    /// The customer picked option `n` (1-based) of the open clarify question.
    public func choose(option n: Int, context: inout DialogueContext) -> BotReply {
        context.turns += 1
        return pick(n, context: &context)
    }

    // MARK: Decisions

    func decide(_ result: MatchResult, context: inout DialogueContext) -> BotReply {
        guard let best = result.candidates.first else { return fallback(result, context: &context) }
        let runnerUp = result.candidates.dropFirst().first
        // Close overall, or the same closest wording in two intents (a dead heat the classifier can't judge).
        let closeCall = runnerUp.map {
            best.score - $0.score < config.ambiguityMargin || abs(best.closest - $0.closest) < Self.similarityTie
        } ?? false
        // Whether the score rules alone would ask "Did you mean…?".
        let rulesAsk = best.score >= max(config.clarifyThreshold, config.askThreshold)
            && (closeCall || best.score < config.answerThreshold)

        // With a doubt model, the doubt decides; a short message the rules would ask about is still asked about.
        if let doubt = result.doubt {
            if doubt >= config.doubtThreshold {
                if let options = vagueTopics(result) {
                    return clarify(result, options: options, reason: Self.vagueTopicReason, context: &context)
                }
                return fallback(result, context: &context,
                                reason: "probably not covered, or the wrong topic (doubt \(doubt))")
            }
            if rulesAsk && result.tokens.count < Self.wordsToSkipAsking {
                return clarify(result, closeCall: closeCall, context: &context)
            }
            return answer(best.intent, confidence: best.score, result: result,
                          reason: closeCall ? "close call, but little doubt (\(doubt))" : "little doubt (\(doubt))",
                          context: &context)
        }

        // Without one (a small knowledge base, a follow-up, or `doubt_threshold: 1`), the score thresholds decide.
        guard best.score >= config.clarifyThreshold else { return fallback(result, context: &context) }
        if best.score >= config.answerThreshold && !closeCall {
            return answer(best.intent, confidence: best.score, result: result, reason: "confident match",
                          context: &context)
        }
        guard rulesAsk else {
            return fallback(result, context: &context, reason: "not sure, and too weak to offer choices")
        }
        return clarify(result, closeCall: closeCall, context: &context)
    }

    /// "Did you mean…?" with the intents close to the best one.
    func clarify(_ result: MatchResult, closeCall: Bool, context: inout DialogueContext) -> BotReply {
        guard let best = result.candidates.first else { return fallback(result, context: &context) }
        let close = result.candidates.filter {
            ($0.score >= config.clarifyThreshold && best.score - $0.score <= config.optionWindow + 1e-9)
                || abs(best.closest - $0.closest) < Self.similarityTie
        }.prefix(config.maxOptions)
        let reason = best.score >= config.answerThreshold && closeCall
            ? "top two intents too close" : "not confident enough"
        return clarify(result, options: Array(close), reason: reason, context: &context)
    }

    func clarify(_ result: MatchResult, options close: [Candidate], reason: String,
                         context: inout DialogueContext) -> BotReply {
        let options = close.enumerated().map { ReplyOption(n: $0.offset + 1, intent: $0.element.intent, title: $0.element.title) }
        context.pendingOptions = options.map(\.intent)
        context.lastCandidates = result.candidates.map(\.intent)
        context.fallbackStreak = 0
        return BotReply(action: .clarify, text: messages.clarify(options), intent: options.first?.intent,
                        confidence: result.best?.score ?? 0, options: options, reason: reason, match: result)
    }

    /// Words that say nothing of the topic in a message of a word or two ("account help", "about my order").
    static let vagueFiller: Set<String> = Set(Matcher.functionWords).union([
        "help", "question", "about", "problem", "issue", "query", "info", "information", "re", "regarding", "quick",
    ])

    /// A message of a word or two that names a topic, not a question ("prices?", "about my order", "ebike"): the
    /// knowledge topics that share its topic word, when at least two do, to ask which one is meant.
    func vagueTopics(_ result: MatchResult) -> [Candidate]? {
        let topicWords = result.tokens.filter { !Self.vagueFiller.contains($0.synonym ?? $0.word) }.map(\.stem)
        guard result.tokens.count <= 4, (1...2).contains(topicWords.count) else { return nil }
        let sharing = result.candidates.filter { candidate in
            guard candidate.score >= 0.1, let intent = knowledgeBase.intent(candidate.intent), !intent.handoff,
                  case .article = intent.response else { return false }
            return candidate.sharedTerms.contains(where: topicWords.contains)
        }.prefix(config.maxOptions)
        return sharing.count >= 2 ? Array(sharing) : nil
    }

    func answer(_ intentID: String, confidence: Double, result: MatchResult?, reason: String,
                        context: inout DialogueContext) -> BotReply {
        guard let intent = knowledgeBase.intent(intentID) else {
            return fallback(result ?? MatchResult(tokens: [], candidates: []), context: &context)
        }
        context.lastIntent = intent.id
        if intent.after.isEmpty {
            context.topic = intent.id
        } else if let topic = context.topic, !intent.after.contains(topic) {
            context.topic = nil
        }
        context.pendingOptions = []
        context.fallbackStreak = 0
        context.unhelpfulStreak = 0
        if let result { context.lastCandidates = result.candidates.map(\.intent) }
        var repeats = false
        if case .article = intent.response, !intent.handoff {
            repeats = context.answered.contains(intent.id)
            context.answered = Array((context.answered.filter { $0 != intent.id } + [intent.id]).suffix(10))
        }
        let suggestions = intent.suggest.compactMap { id in
            knowledgeBase.intent(id).map { Suggestion(intent: $0.id, title: $0.title) }
        }
        var reply = BotReply(action: .answer, text: knowledgeBase.answerText(for: intent), intent: intent.id,
                             confidence: confidence, suggestions: suggestions, wantsHandoff: intent.handoff,
                             reason: reason, match: result)
        reply.repeatsEarlierAnswer = repeats
        return reply
    }

    /// Whether a message that got the same article again asks the same thing again ("where is my order", then "wher
    /// is my packge??"), rather than something new the article also covers ("where's your shop", then "can i do click
    /// and collect then"): at least half its topic words were in the question that got the article before.
    func asksAgain(_ reply: BotReply, earlierStems: [String]) -> Bool {
        guard let tokens = reply.match?.tokens, !earlierStems.isEmpty else { return true }
        let words = Set(matcher.topicStems(of: tokens)).subtracting(Matcher.functionStems)
        guard !words.isEmpty else { return true }
        return Double(words.intersection(earlierStems).count) >= Double(words.count) / 2
    }

    /// Adds the offer of a person to a reply: a sentence and a "Talk to a person" quick reply. The customer
    /// decides; nothing is handed off until they ask.
    func offeringPerson(_ reply: BotReply) -> BotReply {
        var reply = reply
        reply.text += " " + messages.offerPerson
        reply.suggestions.append(Suggestion(intent: personIntent ?? "", title: BotMessages.talkToAPerson))
        reply.offersPerson = true
        return reply
    }

    /// The topic that passes a chat to a person when a customer asks for one (in the demo, `contact.human`), if the
    /// knowledge base has one.
    static func personIntent(of knowledgeBase: KnowledgeBase) -> String? {
        knowledgeBase.intents.first { $0.handoff && ($0.examples.contains(where: PersonRequest.detect)) }?.id
    }

    func fallback(_ result: MatchResult, context: inout DialogueContext, reason: String? = nil) -> BotReply {
        context.fallbackStreak += 1
        context.pendingOptions = []
        // Closest real topics; small talk ("Say hello") is no help to someone who was not understood.
        let suggestions = result.candidates.filter { candidate in
            guard candidate.score >= 0.1, let intent = knowledgeBase.intent(candidate.intent) else { return false }
            if case .article = intent.response { return true }
            return intent.handoff
        }.prefix(3).map { Suggestion(intent: $0.intent, title: $0.title) }
        // "1", "yes" or a suggestion's title picks it.
        context.pendingOptions = suggestions.map(\.intent)
        let reply = BotReply(action: .fallback,
                             text: messages.fallback(suggestions: Array(suggestions), streak: context.fallbackStreak),
                             confidence: result.best?.score ?? 0, suggestions: Array(suggestions),
                             reason: reason ?? (result.candidates.isEmpty ? "no known words" : "below the clarify threshold"),
                             match: result)
        return context.fallbackStreak >= HandoffPolicy.fallbacksInARow ? offeringPerson(reply) : reply
    }

    func pick(_ n: Int, context: inout DialogueContext) -> BotReply {
        let options = context.pendingOptions
        guard !options.isEmpty else {
            return BotReply(action: .fallback, text: messages.noOpenQuestion, reason: "no open question")
        }
        let index = n == -1 ? options.count : n
        guard (1...options.count).contains(index) else {
            return BotReply(action: .clarify, text: messages.badOption(count: options.count), intent: options.first,
                            options: optionList(options), reason: "option out of range")
        }
        return answer(options[index - 1], confidence: 1, result: nil, reason: "picked option \(index)",
                      context: &context)
    }

    func optionList(_ intents: [String]) -> [ReplyOption] {
        intents.compactMap { knowledgeBase.intent($0) }.enumerated().map {
            ReplyOption(n: $0.offset + 1, intent: $0.element.id, title: $0.element.title)
        }
    }

    /// Short replies understood from the conversation so far. Returns nil to let the matcher decide.
    func replyInContext(_ phrase: ContextPhrase, context: inout DialogueContext) -> BotReply? {
        if !context.pendingOptions.isEmpty {
            switch phrase {
            case .option(let n):
                return pick(n, context: &context)
            case .yes where context.pendingOptions.count == 1:
                return pick(1, context: &context)
            case .no, .noneOfThese, .unhelpful:
                context.pendingOptions = []
                return BotReply(action: .fallback, text: messages.noneOfThese, reason: "none of the options")
            case .yes:
                return nil
            }
        }
        guard let last = context.lastIntent, let lastIntent = knowledgeBase.intent(last) else { return nil }
        switch phrase {
        case .unhelpful:
            context.unhelpfulStreak += 1
            let others = optionList(context.lastCandidates.filter { $0 != last }.prefix(config.maxOptions).map { $0 })
            if others.isEmpty {
                return offeringPerson(BotReply(action: .fallback, text: messages.unhelpfulNoOptions,
                                               reason: "answer did not help"))
            }
            context.pendingOptions = others.map(\.intent)
            return offeringPerson(BotReply(action: .clarify, text: messages.unhelpful(others),
                                           intent: others.first?.intent, options: others, reason: "answer did not help"))
        case .yes:
            // "Just ask if you want to know how long delivery takes." — "yes".
            if let offered = offeredTopics[last], context.answered.last == last {
                return answer(offered, confidence: 1, result: nil, reason: "yes to the offer at the end of the answer",
                              context: &context)
            }
            let options = optionList(lastIntent.suggest)
            if options.isEmpty {
                return BotReply(action: .answer, text: messages.gladToHelp, confidence: 1, reason: "yes after an answer")
            }
            context.pendingOptions = options.map(\.intent)
            return BotReply(action: .clarify, text: messages.moreOnTopic(options), intent: options.first?.intent,
                            confidence: 1, options: options, reason: "yes: offer the follow-up topics")
        case .no:
            return BotReply(action: .answer, text: messages.anythingElse, confidence: 1, reason: "no after an answer")
        case .option(let n):
            // "2" right after an answer picks the second follow-up topic shown under it.
            let options = optionList(lastIntent.suggest)
            guard !options.isEmpty else { return nil }
            context.pendingOptions = options.map(\.intent)
            return pick(n, context: &context)
        case .noneOfThese:
            return nil
        }
    }
}
