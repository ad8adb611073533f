import Foundation
internal import GRDB
import SupportBotCore

extension SupportBotDatabase {
    public func createSession(id: String, at: Date, kbVersion: Int, context: String) async throws {
        try await writer.write { db in
            if try SessionRecord.exists(db, key: id) { throw StoreError.duplicateSession(id: id) }
            try SessionRecord(
                id: id, createdAt: at.storage, updatedAt: at.storage, kbVersion: kbVersion, context: context,
                closedAt: nil
            ).insert(db)
        }
    }

    public func session(id: String) async throws -> StoredSession? {
        try await writer.read { db in try SessionRecord.fetchOne(db, key: id)?.model }
    }

    /// Writes one exchange in one transaction: every entry (text masked with `PIIMasker.mask`, stored under
    /// `turn.sessionID` whatever the entry says) and the session's new context, kbVersion and updatedAt (`turn.at`).
    /// - Returns: the entries as stored, with their ids and masked text.
    /// - Throws: `StoreError.unknownSession` if the session was never created; nothing is written then.
    @discardableResult
    public func record(_ turn: ChatTurn) async throws -> [TranscriptEntry] {
        let masked = turn.entries.map { PIIMasker.mask($0.text) }
        return try await writer.write { db in
            guard var session = try SessionRecord.fetchOne(db, key: turn.sessionID) else {
                throw StoreError.unknownSession(id: turn.sessionID)
            }
            var stored: [TranscriptEntry] = []
            stored.reserveCapacity(turn.entries.count)
            for (entry, text) in zip(turn.entries, masked) {
                var record = TranscriptEntryRecord(entry, sessionID: turn.sessionID, maskedText: text)
                try record.insert(db)
                stored.append(try record.model())
            }
            session.context = turn.context
            session.kbVersion = turn.kbVersion
            session.updatedAt = turn.at.storage
            try session.update(db)
            return stored
        }
    }

    /// Marks the session closed. Throws `StoreError.unknownSession` if it was never created.
    public func closeSession(id: String, at: Date) async throws {
        try await writer.write { db in
            guard var session = try SessionRecord.fetchOne(db, key: id) else {
                throw StoreError.unknownSession(id: id)
            }
            session.closedAt = at.storage
            session.updatedAt = max(session.updatedAt, at.storage)
            try session.update(db)
        }
    }

    /// The session's entries in conversation order (time, then order of recording). Empty for an unknown session.
    public func transcript(sessionID: String) async throws -> [TranscriptEntry] {
        try await writer.read { db in
            try TranscriptEntryRecord
                .filter(TranscriptEntryRecord.Columns.sessionID == sessionID)
                .order(TranscriptEntryRecord.Columns.at, TranscriptEntryRecord.Columns.id)
                .fetchAll(db)
                .map { try $0.model() }
        }
    }

    /// Number of transcript entries in all sessions.
    public func messageCount() async throws -> Int {
        try await writer.read { db in try TranscriptEntryRecord.fetchCount(db) }
    }

    /// Number of sessions, open or closed.
    public func sessionCount() async throws -> Int {
        try await writer.read { db in try SessionRecord.fetchCount(db) }
    }
}
