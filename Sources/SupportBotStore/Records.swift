import Foundation
internal import GRDB

// Database rows. Dates are stored as REAL seconds since 2001-01-01 UTC (`Date.timeIntervalSinceReferenceDate`):
// they sort in time order and read back to exactly the same `Date`.
// In sqlite3: datetime(at + 978307200, 'unixepoch').

struct SessionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "session"

    var id: String
    var createdAt: Double
    var updatedAt: Double
    var kbVersion: Int
    var context: String
    var closedAt: Double?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let updatedAt = Column(CodingKeys.updatedAt)
        static let kbVersion = Column(CodingKeys.kbVersion)
        static let context = Column(CodingKeys.context)
        static let closedAt = Column(CodingKeys.closedAt)
    }

    var model: StoredSession {
        StoredSession(
            id: id, createdAt: Date(storage: createdAt), updatedAt: Date(storage: updatedAt),
            kbVersion: kbVersion, context: context, closedAt: closedAt.map(Date.init(storage:)))
    }
}

struct TranscriptEntryRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "transcriptEntry"

    var id: Int64?
    var sessionID: String
    var at: Double
    var speaker: String
    var text: String
    var intent: String?
    var confidence: Double?
    var action: String?
    var kbVersion: Int?
    var ticketID: Int64?
    var author: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let sessionID = Column(CodingKeys.sessionID)
        static let at = Column(CodingKeys.at)
        static let ticketID = Column(CodingKeys.ticketID)
    }

    init(_ entry: TranscriptEntry, sessionID: String, maskedText: String) {
        id = nil
        self.sessionID = sessionID
        at = entry.at.storage
        speaker = entry.speaker.rawValue
        text = maskedText
        intent = entry.intent
        confidence = entry.confidence
        action = entry.action?.rawValue
        kbVersion = entry.kbVersion
        ticketID = entry.ticketID
        author = entry.author
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    func model() throws -> TranscriptEntry {
        guard let speaker = Speaker(rawValue: speaker) else {
            throw StoreError.unreadableRecord("transcript entry \(id ?? -1) has an unknown speaker \"\(speaker)\"")
        }
        let action = try action.map { raw in
            guard let action = TranscriptAction(rawValue: raw) else {
                throw StoreError.unreadableRecord("transcript entry \(id ?? -1) has an unknown action \"\(raw)\"")
            }
            return action
        }
        return TranscriptEntry(
            id: id, sessionID: sessionID, at: Date(storage: at), speaker: speaker, text: text,
            intent: intent, confidence: confidence, action: action, kbVersion: kbVersion,
            ticketID: ticketID, author: author)
    }
}

struct KnowledgeVersionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "knowledgeVersion"

    var number: Int
    var contentHash: String
    var createdAt: Double
    var author: String
    var message: String

    enum Columns {
        static let number = Column(CodingKeys.number)
    }

    init(_ version: KnowledgeVersion) {
        number = version.number
        contentHash = version.contentHash
        createdAt = version.createdAt.storage
        author = version.author
        message = version.message
    }

    var model: KnowledgeVersion {
        KnowledgeVersion(
            number: number, contentHash: contentHash, createdAt: Date(storage: createdAt),
            author: author, message: message)
    }
}

struct KnowledgeFileRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "knowledgeFile"

    var version: Int
    var path: String
    var content: String

    enum Columns {
        static let version = Column(CodingKeys.version)
    }
}

struct AgentRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "agent"

    var id: Int64?
    /// Compared with COLLATE NOCASE (see the schema).
    var name: String
    /// Comma-separated, lowercased, sorted, no blanks (see `ListColumn.skills`).
    var skills: String
    var tokenHash: String
    var createdAt: Double

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
        static let tokenHash = Column(CodingKeys.tokenHash)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var model: Agent {
        Agent(id: id ?? -1, name: name, skills: ListColumn.decode(skills), createdAt: Date(storage: createdAt))
    }
}

struct TicketRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "ticket"

    var id: Int64?
    var sessionID: String
    var state: String
    var reason: String
    var level: Int
    /// Comma-separated (see `ListColumn.tags`).
    var tags: String
    var skill: String?
    var mood: Double
    var details: String
    var preview: String
    var agentID: Int64?
    var agentName: String?
    var previousAgentID: Int64?
    var createdAt: Double
    var queuedAt: Double
    var front: Bool
    var claimedAt: Double?
    var closedAt: Double?
    var resolution: String?
    var rating: Int?
    var ratingComment: String?
    var ratedAt: Double?
    var replyEmail: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let sessionID = Column(CodingKeys.sessionID)
        static let state = Column(CodingKeys.state)
        static let level = Column(CodingKeys.level)
        static let agentID = Column(CodingKeys.agentID)
        static let agentName = Column(CodingKeys.agentName)
        static let previousAgentID = Column(CodingKeys.previousAgentID)
        static let createdAt = Column(CodingKeys.createdAt)
        static let queuedAt = Column(CodingKeys.queuedAt)
        static let front = Column(CodingKeys.front)
        static let claimedAt = Column(CodingKeys.claimedAt)
    }

    /// Open (waiting or assigned) tickets.
    static var isOpen: SQLExpression {
        [TicketState.waiting.rawValue, TicketState.assigned.rawValue].contains(Columns.state)
    }

    /// A new waiting ticket; `preview` must already be masked.
    init(_ new: NewTicket, maskedPreview: String, at: Date) {
        id = nil
        sessionID = new.sessionID
        state = TicketState.waiting.rawValue
        reason = new.reason
        level = new.level
        tags = ListColumn.tags(new.tags)
        skill = nil
        mood = new.mood
        details = new.details
        preview = maskedPreview
        agentID = nil
        agentName = nil
        previousAgentID = nil
        createdAt = at.storage
        queuedAt = at.storage
        front = false
        claimedAt = nil
        closedAt = nil
        resolution = nil
        rating = nil
        ratingComment = nil
        ratedAt = nil
        replyEmail = nil
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var ticketState: TicketState? { TicketState(rawValue: state) }

    func model() throws -> Ticket {
        guard let ticketState else {
            throw StoreError.unreadableRecord("ticket \(id ?? -1) has an unknown state \"\(state)\"")
        }
        return Ticket(
            id: id ?? -1, sessionID: sessionID, state: ticketState, reason: reason, level: level,
            tags: ListColumn.decode(tags), skill: skill, mood: mood, details: details, preview: preview,
            agentID: agentID, agentName: agentName, previousAgentID: previousAgentID,
            createdAt: Date(storage: createdAt), queuedAt: Date(storage: queuedAt), front: front,
            claimedAt: claimedAt.map(Date.init(storage:)), closedAt: closedAt.map(Date.init(storage:)),
            resolution: resolution, rating: rating, ratingComment: ratingComment,
            ratedAt: ratedAt.map(Date.init(storage:)), replyEmail: replyEmail)
    }
}

/// Lists stored as one comma-separated TEXT column. A comma inside an item separates two items.
enum ListColumn {
    /// Agent skills and a ticket's required skill: trimmed, lowercased, no blanks or duplicates, sorted.
    static func normalizedSkills(_ skills: [String]) -> [String] {
        Set(items(skills).map { $0.lowercased() }).sorted()
    }

    static func skills(_ skills: [String]) -> String {
        normalizedSkills(skills).joined(separator: ",")
    }

    /// Ticket tags: trimmed, no blanks or duplicates, in the order given.
    static func tags(_ tags: [String]) -> String {
        var seen: Set<String> = []
        return items(tags).filter { seen.insert($0).inserted }.joined(separator: ",")
    }

    static func decode(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }

    private static func items(_ list: [String]) -> [String] {
        list.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }
}

extension Date {
    var storage: Double { timeIntervalSinceReferenceDate }
    init(storage: Double) { self.init(timeIntervalSinceReferenceDate: storage) }
}
