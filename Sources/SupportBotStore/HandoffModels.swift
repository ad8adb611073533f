import Foundation

/// Where a handoff ticket is. A session has at most one open (waiting or assigned) ticket at a time.
public enum TicketState: String, Codable, Sendable, CaseIterable {
    /// In the queue, no agent yet.
    case waiting
    /// An agent has claimed it.
    case assigned
    /// An agent (or the server) closed it.
    case closed
    /// The customer left before it was closed.
    case abandoned

    /// Waiting or assigned.
    public var isOpen: Bool { self == .waiting || self == .assigned }
}

/// A human agent who can claim tickets. The login token is stored only as a hash and never read back.
public struct Agent: Sendable, Equatable {
    public var id: Int64
    /// Unique, compared without regard to case.
    public var name: String
    /// Lowercased, sorted, no duplicates.
    public var skills: [String]
    public var createdAt: Date

    public init(id: Int64, name: String, skills: [String], createdAt: Date) {
        self.id = id
        self.name = name
        self.skills = skills
        self.createdAt = createdAt
    }
}

/// A request for a human agent, as stored.
public struct Ticket: Sendable, Equatable {
    public var id: Int64
    public var sessionID: String
    public var state: TicketState
    /// Why the conversation was handed off.
    public var reason: String
    /// Priority, 0...4; higher is served first.
    public var level: Int
    public var tags: [String]
    /// A skill the claiming agent must have, set by a transfer; nil when any agent will do.
    public var skill: String?
    public var mood: Double
    /// Opaque JSON text owned by the server.
    public var details: String
    /// A short, masked excerpt of the conversation for the queue view.
    public var preview: String
    public var agentID: Int64?
    public var agentName: String?
    /// The agent who had the ticket before it was last put back in the queue.
    public var previousAgentID: Int64?
    public var createdAt: Date
    /// When the ticket (re-)entered the queue.
    public var queuedAt: Date
    /// Served before tickets of the same level that are not at the front.
    public var front: Bool
    /// When an agent last claimed it.
    public var claimedAt: Date?
    public var closedAt: Date?
    /// Masked.
    public var resolution: String?
    /// 1...5, given by the customer once the ticket is closed.
    public var rating: Int?
    /// Masked.
    public var ratingComment: String?
    public var ratedAt: Date?
    /// Where the customer asked the team to reply by e-mail (left while waiting out of hours). Whole, not masked:
    /// the team writes to it. Never logged.
    public var replyEmail: String?

    public init(
        id: Int64, sessionID: String, state: TicketState, reason: String, level: Int, tags: [String],
        skill: String? = nil, mood: Double, details: String, preview: String, agentID: Int64? = nil,
        agentName: String? = nil, previousAgentID: Int64? = nil, createdAt: Date, queuedAt: Date,
        front: Bool = false, claimedAt: Date? = nil, closedAt: Date? = nil, resolution: String? = nil,
        rating: Int? = nil, ratingComment: String? = nil, ratedAt: Date? = nil, replyEmail: String? = nil
    ) {
        self.id = id
        self.sessionID = sessionID
        self.state = state
        self.reason = reason
        self.level = level
        self.tags = tags
        self.skill = skill
        self.mood = mood
        self.details = details
        self.preview = preview
        self.agentID = agentID
        self.agentName = agentName
        self.previousAgentID = previousAgentID
        self.createdAt = createdAt
        self.queuedAt = queuedAt
        self.front = front
        self.claimedAt = claimedAt
        self.closedAt = closedAt
        self.resolution = resolution
        self.rating = rating
        self.ratingComment = ratingComment
        self.ratedAt = ratedAt
        self.replyEmail = replyEmail
    }
}

/// What `SupportBotDatabase.openTicket(_:turn:at:)` needs to queue a conversation for an agent.
public struct NewTicket: Sendable {
    public var sessionID: String
    public var reason: String
    /// Priority, 0...4.
    public var level: Int
    /// Stored trimmed, without blanks or duplicates; a comma inside a tag separates two tags.
    public var tags: [String]
    public var mood: Double
    /// Opaque JSON text owned by the server.
    public var details: String
    /// Masked with `PIIMasker.mask` before it is stored.
    public var preview: String

    public init(
        sessionID: String, reason: String, level: Int, tags: [String], mood: Double, details: String,
        preview: String
    ) {
        self.sessionID = sessionID
        self.reason = reason
        self.level = level
        self.tags = tags
        self.mood = mood
        self.details = details
        self.preview = preview
    }
}
