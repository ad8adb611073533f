/// What the bot decided to do with a message.
public enum ReplyAction: String, Codable, Sendable {
    /// A confident answer.
    case answer
    /// "Did you mean…?" with numbered options.
    case clarify
    /// Not understood: say so, suggest topics, ask to rephrase.
    case fallback
}

/// A numbered choice in a clarify question.
public struct ReplyOption: Codable, Sendable, Equatable {
    public var n: Int
    public var intent: String
    public var title: String
}

/// A follow-up topic offered as a quick reply.
public struct Suggestion: Codable, Sendable, Equatable {
    public var intent: String
    public var title: String
}

/// The bot's reply to one customer message, with the evidence behind it.
public struct BotReply: Sendable, Equatable {
    public var action: ReplyAction
    public var text: String
    public var intent: String?
    public var confidence: Double
    public var options: [ReplyOption]
    public var suggestions: [Suggestion]
    /// The matched intent is marked `handoff: true`: a person should take over.
    public var wantsHandoff: Bool
    /// The bot answered this knowledge article earlier in the conversation: the first answer did not help.
    public var repeatsEarlierAnswer: Bool = false
    /// The reply offers a person ("Talk to a person"): the customer decides.
    public var offersPerson: Bool = false
    /// Why the policy chose this reply, in a few words (for `--explain` and the transcript).
    public var reason: String
    /// The matcher's view of the message, when the matcher was asked.
    public var match: MatchResult?

    public init(action: ReplyAction, text: String, intent: String? = nil, confidence: Double = 0,
                options: [ReplyOption] = [], suggestions: [Suggestion] = [], wantsHandoff: Bool = false,
                reason: String, match: MatchResult? = nil) {
        self.action = action
        self.text = text
        self.intent = intent
        self.confidence = confidence
        self.options = options
        self.suggestions = suggestions
        self.wantsHandoff = wantsHandoff
        self.reason = reason
        self.match = match
    }
}

/// One exchange as the policy sees it: the reply, the customer's mood, and whether a person should take over.
public struct BotTurn: Sendable, Equatable {
    public var reply: BotReply
    public var mood: MoodReading
    /// Set when the chat should go to a person; the reply is then what the bot says when no one can take it.
    public var handoff: HandoffDecision?
}
