/// Decides when the bot steps aside for a person, and how urgent that is. Pure: the same reply, mood and
/// context always give the same decision. The level table is documented in docs/handoff.md.
public struct HandoffPolicy: Sendable {
    /// Conversation mood at or above this hands off (`handoff.mood_threshold` in `_settings.yml`).
    public var moodThreshold: Double

    public init(moodThreshold: Double = MoodDetector.defaultThreshold) {
        self.moodThreshold = moodThreshold
    }

    /// Topic tags that always go to the front: money taken wrongly, safety, the law.
    public static let highRiskTags: Set<String> = ["fraud", "legal", "security", "safety"]
    /// Topic tags about money: at least medium.
    public static let moneyTags: Set<String> = ["billing", "payment", "payments", "refund", "refunds"]
    /// Fallbacks in a row from which the bot offers a person.
    public static let fallbacksInARow = 2

    /// Every trigger that fires for this exchange, or nil when the bot should carry on.
    /// - Parameters:
    ///   - reply: the bot's reply, with `context` already moved on by the engine.
    ///   - intent: the intent the reply answers (its tags route the ticket), if any.
    ///   - failed: the bot could not produce a reply (an error on our side).
    public func decide(reply: BotReply?, mood: MoodReading, askedForPerson: Bool, context: DialogueContext,
                       intent: Intent?, failed: Bool = false) -> HandoffDecision? {
        var triggers: [HandoffReason] = []
        if failed { triggers.append(.internalError) }
        if mood.conversation >= moodThreshold { triggers.append(.angry) }
        if askedForPerson { triggers.append(.askedForPerson) }
        if let reply {
            if reply.wantsHandoff && !askedForPerson { triggers.append(.handoffTopic) }
            // Misses, repeats and "that didn't help" don't hand off: the engine offers a person (`offersPerson`)
            // and the customer decides.
        }
        guard !triggers.isEmpty else { return nil }
        let tags = intent?.tags ?? []
        let (level, explanation) = Self.level(for: triggers, mood: mood.conversation, threshold: moodThreshold,
                                              tags: tags)
        let strongest = triggers.sorted { $0.baseLevel > $1.baseLevel }
        return HandoffDecision(reason: strongest[0], triggers: strongest, level: level, tags: tags,
                               explanation: explanation)
    }

    /// The escalation level for a set of triggers, the conversation's mood and the topic's tags.
    public static func level(for triggers: [HandoffReason], mood: Double, threshold: Double,
                             tags: [String]) -> (EscalationLevel, String) {
        var level = triggers.map(\.baseLevel).max() ?? .low
        var steps = ["\(triggers.map(\.rawValue).joined(separator: "+")) → \(level.name)"]
        if mood >= 0.8 {
            level = .high
            steps.append("mood \(mood) ≥ 0.8 → high")
        } else if mood >= threshold {
            if level < .mediumHigh { level = .mediumHigh }
            steps.append("mood \(mood) ≥ \(threshold) → at least medium-high")
        } else if mood >= 0.3 {
            level = level.raised
            steps.append("mood \(mood) ≥ 0.3 → one step up")
        }
        let tagSet = Set(tags.map { $0.lowercased() })
        if !tagSet.isDisjoint(with: highRiskTags) {
            level = .high
            steps.append("topic \(tagSet.intersection(highRiskTags).sorted().joined(separator: ",")) → high")
        } else if !tagSet.isDisjoint(with: moneyTags) && level < .medium {
            level = .medium
            steps.append("money topic → at least medium")
        }
        return (level, steps.joined(separator: "; "))
    }
}

/// Recognises a customer asking for a person: "talk to a human", "agent please", "real person".
public enum PersonRequest {
    private static let phrases = PhraseIndex([
        "talk to a human", "speak to a human", "talk to a person", "speak to a person", "talk to someone",
        "speak to someone", "speak with someone", "talk with someone", "talk to somebody", "speak to somebody",
        "real person", "real human", "actual person", "actual human", "human please", "a human", "human being",
        "agent please", "an agent", "live agent", "live person", "live chat", "customer service agent",
        "customer service rep", "representative", "operator", "talk to staff", "speak to staff", "someone from your team",
        "a person please", "person please", "human agent", "not a bot", "not a robot", "no bots", "no more bots",
        "stop the bot", "speak to your team", "talk to your team", "call me back", "someone call me",
        "can a person help", "can a person sort", "can a person look", "could a person help", "could a person sort",
        "could a person look", "want a person", "get a person", "is there a person", "leave a message",
        "leave a message for", "put me through", "pass me to", "pass this to your team", "pass it to your team",
    ].map(TextNormalizer.tokens))

    public static func detect(_ text: String) -> Bool { detect(words: TextNormalizer.tokens(text)) }

    /// "are you a real person?", "is this a real human or a bot": a short question about the bot, not a request for
    /// a person ("are you able to put me through to an agent?" is one).
    static func asksAboutTheBot(_ words: [String]) -> Bool {
        let opening = words.starts(with: ["are", "you"]) || words.starts(with: ["r", "u"])
            || words.starts(with: ["is", "this"]) || words.starts(with: ["am", "i", "talking"])
            || words.starts(with: ["am", "i", "chatting"])
        let aboutBeing: Set<String> = ["bot", "robot", "human", "person", "real", "ai", "machine", "computer", "chatbot"]
        let asking: Set<String> = ["put", "through", "talk", "speak", "want", "need", "agent", "transfer", "connect",
                                   "please", "get", "can", "could"]
        return opening && words.count <= 8 && !Set(words).isDisjoint(with: aboutBeing)
            && Set(words.dropFirst(2)).isDisjoint(with: asking)
    }

    static func detect(words: [String]) -> Bool {
        if asksAboutTheBot(words) { return false }
        if words == ["human"] || words == ["agent"] || words == ["person"] || words == ["operator"] { return true }
        return phrases.first(in: words) != nil || asksSomeoneToAct(words)
    }

    private static let askers: Set<String> = ["can", "could", "would", "will", "need", "want", "get", "please", "have"]
    private static let someone: Set<String> = ["someone", "somebody", "anyone", "anybody"]
    /// What staff do for a customer: "can someone actually chase it", "could somebody sort me a replacement".
    private static let staffWork: Set<String> = [
        "sort", "chase", "check", "look", "help", "call", "ring", "phone", "contact", "email", "fix", "deal", "handle",
        "investigate", "review", "explain", "reply", "respond", "answer", "arrange", "get", "sorting", "chasing",
    ]

    /// "can someone chase it", "i need somebody to look at this": a request for a person to do something. Not
    /// "can someone else collect my parcel" (another customer) or "someone stole my bike".
    static func asksSomeoneToAct(_ words: [String]) -> Bool {
        for (i, word) in words.enumerated() where someone.contains(word) {
            guard i > 0, askers.contains(words[i - 1]) || (i > 1 && askers.contains(words[i - 2])) else { continue }
            if words.dropFirst(i + 1).first == "else" { continue }
            if words.dropFirst(i + 1).prefix(3).contains(where: staffWork.contains) { return true }
        }
        return false
    }
}

/// Recognises a waiting customer changing their mind: "never mind", "forget it", "back to the bot".
public enum LeaveQueueRequest {
    private static let phrases: [[String]] = [
        "never mind", "nevermind", "nvm", "forget it", "forget about it", "back to the bot", "go back to the bot",
        "cancel that", "cancel my request", "cancel the request", "leave the queue", "leave the line",
        "no longer need", "do not need a person", "do not need help", "it is fine now", "i am fine now", "all sorted",
        "sorted it", "i found it", "stop waiting",
    ].map(TextNormalizer.tokens)

    /// Words that may come with the phrase ("oh never mind, thanks").
    private static let filler: Set<String> = ["oh", "ok", "okay", "please", "thanks", "thank", "you", "actually", "no",
                                              "sorry", "ah", "well", "then", "now", "all", "good", "fine", "just"]

    /// The whole message must be a way of leaving (plus filler words): "i found it was charged twice" or
    /// "please cancel that order" are messages for the team, not a change of mind.
    public static func detect(_ text: String) -> Bool {
        let words = TextNormalizer.tokens(text).filter { !filler.contains($0) }
        guard !words.isEmpty, words.count <= 8 else { return false }
        if words == ["cancel"] || words == ["stop"] { return true }
        return phrases.contains { $0.filter { !filler.contains($0) } == words }
    }
}

extension Array where Element == String {
    /// The first of `phrases` (each a run of words) found in these words, if any.
    func firstPhrase(of phrases: [[String]]) -> [String]? {
        for phrase in phrases where !phrase.isEmpty && phrase.count <= count {
            for start in 0...(count - phrase.count) where self[start..<(start + phrase.count)].elementsEqual(phrase) {
                return phrase
            }
        }
        return nil
    }
}

/// Phrases (runs of words) looked up by their first word: a message is read once, one lookup per word, instead of
/// being searched for every phrase in turn. Runs on every message (asking for a person, shopping questions).
struct PhraseIndex: Sendable {
    let phrases: [[String]]
    /// For each first word, the positions in `phrases` of the phrases that start with it, in order.
    private let byFirstWord: [String: [Int]]

    init(_ phrases: [[String]]) {
        self.phrases = phrases
        var byFirstWord: [String: [Int]] = [:]
        for (position, phrase) in phrases.enumerated() {
            if let first = phrase.first { byFirstWord[first, default: []].append(position) }
        }
        self.byFirstWord = byFirstWord
    }

    /// The first of the phrases, in the order given, found anywhere in `words` (what `words.firstPhrase(of:)` says).
    func first(in words: [String]) -> [String]? {
        var best: Int?
        for start in words.indices {
            guard let positions = byFirstWord[words[start]] else { continue }
            for position in positions {
                if let best, position >= best { break }
                let phrase = phrases[position]
                if phrase.count <= words.count - start,
                   words[start..<(start + phrase.count)].elementsEqual(phrase) {
                    best = position
                    break
                }
            }
        }
        return best.map { phrases[$0] }
    }
}
