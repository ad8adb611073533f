import Foundation
import SupportBotCore

public enum Speaker: String, Codable, Sendable, CaseIterable {
    case customer, bot, agent, system
}

/// What a transcript line was, beyond who said it. Stored as its raw value.
public enum TranscriptAction: String, Codable, Sendable, CaseIterable {
    /// The bot's confident answer.
    case answer
    /// The bot's "did you mean…?".
    case clarify
    /// The bot did not understand.
    case fallback
    /// The exchange that handed the chat to a person, and the bot's handoff message.
    case handoff
    /// The customer's 1–5 rating.
    case rate
    /// An agent's internal note: never shown to the customer.
    case note

    public init(_ reply: ReplyAction) {
        switch reply {
        case .answer: self = .answer
        case .clarify: self = .clarify
        case .fallback: self = .fallback
        }
    }
}

/// One line of a conversation. `text` is stored masked (see `PIIMasker`).
public struct TranscriptEntry: Codable, Sendable, Equatable {
    /// Assigned by the store; nil until recorded.
    public var id: Int64?
    public var sessionID: String
    public var at: Date
    public var speaker: Speaker
    public var text: String
    public var intent: String?
    public var confidence: Double?
    public var action: TranscriptAction?
    public var kbVersion: Int?
    /// The handoff ticket this line belongs to, if any.
    public var ticketID: Int64?
    /// The agent's name, for lines written by an agent.
    public var author: String?

    public init(
        id: Int64? = nil, sessionID: String, at: Date, speaker: Speaker, text: String,
        intent: String? = nil, confidence: Double? = nil, action: TranscriptAction? = nil, kbVersion: Int? = nil,
        ticketID: Int64? = nil, author: String? = nil
    ) {
        self.id = id
        self.sessionID = sessionID
        self.at = at
        self.speaker = speaker
        self.text = text
        self.intent = intent
        self.confidence = confidence
        self.action = action
        self.kbVersion = kbVersion
        self.ticketID = ticketID
        self.author = author
    }
}

public struct StoredSession: Codable, Sendable, Equatable {
    public var id: String
    public var createdAt: Date
    public var updatedAt: Date
    public var kbVersion: Int
    /// Opaque JSON text owned by the dialogue layer.
    public var context: String
    public var closedAt: Date?

    public init(
        id: String, createdAt: Date, updatedAt: Date, kbVersion: Int, context: String, closedAt: Date? = nil
    ) {
        self.id = id
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.kbVersion = kbVersion
        self.context = context
        self.closedAt = closedAt
    }
}

/// Everything one exchange changes, written in one transaction by `SupportBotDatabase.record(_:)`.
public struct ChatTurn: Sendable {
    public var sessionID: String
    public var context: String
    public var kbVersion: Int
    public var entries: [TranscriptEntry]
    public var at: Date
    /// The chat's first exchange: the session is created with it (createdAt = `at`), in the same transaction, so a
    /// new chat costs one write, not two; if it is there already, it is updated as by any exchange. Otherwise the
    /// session must exist.
    public var startsSession: Bool

    public init(sessionID: String, context: String, kbVersion: Int, entries: [TranscriptEntry], at: Date,
                startsSession: Bool = false) {
        self.sessionID = sessionID
        self.context = context
        self.kbVersion = kbVersion
        self.entries = entries
        self.at = at
        self.startsSession = startsSession
    }
}

/// An immutable snapshot of the knowledge-base files.
public struct KnowledgeVersion: Codable, Sendable, Equatable {
    public var number: Int
    public var contentHash: String
    public var createdAt: Date
    public var author: String
    public var message: String

    public init(number: Int, contentHash: String, createdAt: Date, author: String, message: String) {
        self.number = number
        self.contentHash = contentHash
        self.createdAt = createdAt
        self.author = author
        self.message = message
    }
}
