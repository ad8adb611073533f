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

    /// Writes one exchange, all or nothing: every entry (text masked with `PIIMasker.mask`, stored under
    /// `turn.sessionID` whatever the entry says) and the session's new context, kbVersion and updatedAt (`turn.at`).
    /// Returns once the exchange is committed. Exchanges from many chats that arrive together share one transaction
    /// (group commit), each in its own savepoint, so one that fails leaves the others whole.
    /// - Returns: the entries as stored, with their ids and masked text.
    /// - Throws: `StoreError.unknownSession` if the session was never created; nothing is written then.
    @discardableResult
    public func record(_ turn: ChatTurn) async throws -> [TranscriptEntry] {
        let masked = turn.entries.map { PIIMasker.mask($0.text) }
        if turns.claimIfIdle() {
            // Nobody else is writing: this turn goes straight in (a quiet server pays no extra hop for batching).
            let result: Result<[TranscriptEntry], any Error>
            do {
                result = .success(try await writer.write { db in try Self.record(turn, maskedTexts: masked, in: db) })
            } catch {
                result = .failure(error)
            }
            if turns.finishDirect() { Task { await self.writeWaitingTurns() } }
            return try result.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            let drain = turns.add(.init(turn: turn, maskedTexts: masked, continuation: continuation))
            if drain { Task { await self.writeWaitingTurns() } }
        }
    }

    /// Writes what waits in `turns`, one transaction per batch, until nothing waits.
    private func writeWaitingTurns() async {
        while let batch = turns.takeBatch() {
            let results: [Result<[TranscriptEntry], any Error>]
            do {
                results = try await writer.write { db in
                    batch.map { waiting in
                        Result {
                            var stored: [TranscriptEntry] = []
                            try db.inSavepoint {
                                stored = try Self.record(waiting.turn, maskedTexts: waiting.maskedTexts, in: db)
                                return .commit
                            }
                            return stored
                        }
                    }
                }
            } catch {
                // The transaction itself failed: nothing of the batch is stored.
                results = batch.map { _ in .failure(error) }
            }
            for (waiting, result) in zip(batch, results) { waiting.continuation.resume(with: result) }
        }
    }

    /// Adds entries to a session's transcript without changing its context or kbVersion, in one transaction:
    /// every entry (text masked with `PIIMasker.mask`, stored under `sessionID` whatever the entry says), and the
    /// session's updatedAt (`at`). For lines that are not a chat turn: agent messages, system notes.
    /// - Returns: the entries as stored, with their ids and masked text.
    /// - Throws: `StoreError.unknownSession` if the session was never created; nothing is written then.
    @discardableResult
    public func append(_ entries: [TranscriptEntry], sessionID: String, at: Date) async throws -> [TranscriptEntry] {
        let masked = entries.map { PIIMasker.mask($0.text) }
        return try await writer.write { db in
            var (session, stored) = try Self.insertEntries(entries, maskedTexts: masked, sessionID: sessionID, in: db)
            session.updatedAt = at.storage
            try session.update(db)
            return stored
        }
    }

    /// What `record(_:)` does, inside the caller's write transaction. `maskedTexts` are the entries' texts,
    /// already masked (masking runs before the transaction so the writer is held as briefly as possible).
    static func record(_ turn: ChatTurn, maskedTexts: [String], in db: Database) throws -> [TranscriptEntry] {
        var (session, stored) = try insertEntries(
            turn.entries, maskedTexts: maskedTexts, sessionID: turn.sessionID, in: db)
        session.context = turn.context
        session.kbVersion = turn.kbVersion
        session.updatedAt = turn.at.storage
        try session.update(db)
        return stored
    }

    /// Inserts `entries` under `sessionID` with the given (masked) texts.
    /// - Returns: the session row, for the caller to update, and the entries as stored.
    /// - Throws: `StoreError.unknownSession` if the session was never created.
    static func insertEntries(
        _ entries: [TranscriptEntry], maskedTexts: [String], sessionID: String, in db: Database
    ) throws -> (session: SessionRecord, stored: [TranscriptEntry]) {
        guard let session = try SessionRecord.fetchOne(db, key: sessionID) else {
            throw StoreError.unknownSession(id: sessionID)
        }
        var stored: [TranscriptEntry] = []
        stored.reserveCapacity(entries.count)
        for (entry, text) in zip(entries, maskedTexts) {
            var record = TranscriptEntryRecord(entry, sessionID: sessionID, maskedText: text)
            try record.insert(db)
            stored.append(try record.model())
        }
        return (session, stored)
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
