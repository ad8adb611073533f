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

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let sessionID = Column(CodingKeys.sessionID)
        static let at = Column(CodingKeys.at)
    }

    init(_ entry: TranscriptEntry, sessionID: String, maskedText: String) {
        id = nil
        self.sessionID = sessionID
        at = entry.at.storage
        speaker = entry.speaker.rawValue
        text = maskedText
        intent = entry.intent
        confidence = entry.confidence
        action = entry.action
        kbVersion = entry.kbVersion
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    func model() throws -> TranscriptEntry {
        guard let speaker = Speaker(rawValue: speaker) else {
            throw StoreError.unreadableRecord("transcript entry \(id ?? -1) has an unknown speaker \"\(speaker)\"")
        }
        return TranscriptEntry(
            id: id, sessionID: sessionID, at: Date(storage: at), speaker: speaker, text: text,
            intent: intent, confidence: confidence, action: action, kbVersion: kbVersion)
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

extension Date {
    var storage: Double { timeIntervalSinceReferenceDate }
    init(storage: Double) { self.init(timeIntervalSinceReferenceDate: storage) }
}
