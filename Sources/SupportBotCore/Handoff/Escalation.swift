/// How urgently a person should pick up a handed-off chat. Ordered: `.high` sorts first in the queue.
public enum EscalationLevel: Int, Codable, Sendable, Comparable, CaseIterable {
    case low = 0, mediumLow, medium, mediumHigh, high

    /// The name used in the protocol, the database listing and the docs.
    public var name: String {
        switch self {
        case .low: return "low"
        case .mediumLow: return "medium-low"
        case .medium: return "medium"
        case .mediumHigh: return "medium-high"
        case .high: return "high"
        }
    }

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// One step more urgent (high stays high).
    public var raised: EscalationLevel { EscalationLevel(rawValue: min(rawValue + 1, Self.high.rawValue)) ?? .high }
}

/// Why the bot handed a chat to a person.
public enum HandoffReason: String, Codable, Sendable, CaseIterable {
    /// The customer is angry or frustrated (the mood detector crossed its threshold).
    case angry
    /// The customer asked for a person.
    case askedForPerson = "asked_for_person"
    /// Two fallbacks in a row: the bot does not understand.
    case notUnderstood = "not_understood"
    /// The customer asked again about something the bot already answered, or said twice that it did not help.
    case answerDidNotHelp = "answer_did_not_help"
    /// The topic is marked `handoff: true` in the knowledge base (fraud, legal, a refund dispute…).
    case handoffTopic = "handoff_topic"
    /// Something broke on our side.
    case internalError = "internal_error"

    /// Plain words for agents and listings.
    public var summary: String {
        switch self {
        case .angry: return "customer is upset"
        case .askedForPerson: return "asked for a person"
        case .notUnderstood: return "bot did not understand twice"
        case .answerDidNotHelp: return "bot's answer did not help"
        case .handoffTopic: return "topic needs a person"
        case .internalError: return "error on our side"
        }
    }

    /// Why a chat came to a person, in words for the agent who takes it: "Asked for a person. Upset: anger word:
    /// "useless", had to repeat: "again"." rather than the rule trace. `triggers` are the reasons' raw values, as
    /// stored with the ticket; the mood's evidence is the strongest three.
    public static func inWords(triggers: [String], moodReasons: [MoodReason], tags: [String]) -> String {
        var sentences: [String] = []
        for trigger in triggers.compactMap(HandoffReason.init(rawValue:)) {
            switch trigger {
            case .angry:
                let evidence = moodReasons.filter { $0.weight > 0 }.sorted { $0.weight > $1.weight }.prefix(3)
                sentences.append(evidence.isEmpty ? "Upset." : "Upset: " + evidence.map(\.summary).joined(separator: ", ") + ".")
            case .askedForPerson: sentences.append("Asked for a person.")
            case .handoffTopic:
                let tagList = tags.joined(separator: ", ")
                sentences.append(tags.isEmpty ? "The topic needs a person." : "The topic needs a person (\(tagList)).")
            case .internalError: sentences.append("The bot hit a problem on our side.")
            case .notUnderstood: sentences.append("The bot did not understand twice.")
            case .answerDidNotHelp: sentences.append("The bot's answer did not help.")
            }
        }
        return sentences.joined(separator: " ")
    }

    /// The level a trigger starts from before mood and topic are taken into account (docs/handoff.md).
    public var baseLevel: EscalationLevel {
        switch self {
        case .askedForPerson: return .mediumLow
        case .notUnderstood: return .mediumLow
        case .answerDidNotHelp: return .medium
        case .handoffTopic: return .medium
        case .internalError: return .mediumHigh
        case .angry: return .mediumHigh
        }
    }
}

/// The decision to hand a chat to a person: why, and how urgently.
public struct HandoffDecision: Sendable, Equatable {
    public var reason: HandoffReason
    /// Every trigger that fired, strongest first (the first is `reason`).
    public var triggers: [HandoffReason]
    public var level: EscalationLevel
    /// The topic's tags, used to route the ticket to agents with those skills.
    public var tags: [String]
    /// How the level was reached, for agents and `--explain`.
    public var explanation: String

    public init(reason: HandoffReason, triggers: [HandoffReason], level: EscalationLevel, tags: [String],
                explanation: String) {
        self.reason = reason
        self.triggers = triggers
        self.level = level
        self.tags = tags
        self.explanation = explanation
    }
}
