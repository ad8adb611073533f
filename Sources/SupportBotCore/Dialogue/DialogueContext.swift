/// What the bot remembers about one conversation between messages. Stored with the session as JSON,
/// so a customer who reconnects carries on where they left off.
public struct DialogueContext: Codable, Sendable, Equatable {
    /// The intent answered last; follow-ups (`after:`) and "yes"/"no" refer to it.
    public var lastIntent: String?
    /// The last main (not follow-up) intent answered: its follow-ups stay open after a sibling follow-up.
    public var topic: String?
    /// The options of an open "Did you mean…?" question, in order.
    public var pendingOptions: [String] = []
    /// Fallbacks in a row.
    public var fallbackStreak: Int = 0
    /// Times in a row the customer said an answer did not help.
    public var unhelpfulStreak: Int = 0
    /// The ranked intents for the last question the bot answered, for "that didn't help".
    public var lastCandidates: [String] = []
    /// Customer messages so far.
    public var turns: Int = 0
    /// Knowledge articles answered so far (newest last, at most 10): asking again means the answer did not help.
    public var answered: [String] = []
    /// How upset the customer has been, message by message.
    public var mood = MoodState()
    /// The last reply offered a person: "yes" now takes the offer.
    public var offeredPerson = false
    /// The words (stems the knowledge base knows, nothing else) of the question that set the topic of the last article
    /// answered: a follow-up ("how long do i wait") is read together with them.
    public var topicStems: [String] = []

    public init() {}

    /// A person takes the chat: open questions, streaks, answered topics and mood start again, so that when the
    /// chat comes back to the bot it starts with a clean slate.
    public mutating func handOff() {
        pendingOptions = []
        fallbackStreak = 0
        unhelpfulStreak = 0
        answered = []
        mood = MoodState()
        offeredPerson = false
        topicStems = []
    }

    enum CodingKeys: String, CodingKey {
        case lastIntent = "last_intent", pendingOptions = "pending_options", fallbackStreak = "fallback_streak"
        case unhelpfulStreak = "unhelpful_streak", lastCandidates = "last_candidates", turns, topic, answered, mood
        case offeredPerson = "offered_person", topicStems = "topic_stems"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lastIntent = try c.decodeIfPresent(String.self, forKey: .lastIntent)
        pendingOptions = try c.decodeIfPresent([String].self, forKey: .pendingOptions) ?? []
        fallbackStreak = try c.decodeIfPresent(Int.self, forKey: .fallbackStreak) ?? 0
        unhelpfulStreak = try c.decodeIfPresent(Int.self, forKey: .unhelpfulStreak) ?? 0
        lastCandidates = try c.decodeIfPresent([String].self, forKey: .lastCandidates) ?? []
        turns = try c.decodeIfPresent(Int.self, forKey: .turns) ?? 0
        topic = try c.decodeIfPresent(String.self, forKey: .topic)
        answered = try c.decodeIfPresent([String].self, forKey: .answered) ?? []
        mood = try c.decodeIfPresent(MoodState.self, forKey: .mood) ?? MoodState()
        offeredPerson = try c.decodeIfPresent(Bool.self, forKey: .offeredPerson) ?? false
        topicStems = try c.decodeIfPresent([String].self, forKey: .topicStems) ?? []
    }
}
