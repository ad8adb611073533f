import Foundation
internal import GRDB
import SupportBotCore

extension SupportBotDatabase {
    public func createSession(id: String, at: Date, kbVersion: Int, context: String) async throws {
        try await write { db in
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
    /// - Throws: `StoreError.unknownSession` if the session was never created and `turn.startsSession` is false;
    ///   nothing is written then.
    @discardableResult
    public func record(_ turn: ChatTurn) async throws -> [TranscriptEntry] {
        let masked = turn.entries.map { PIIMasker.mask($0.text) }
        if turns.claimIfIdle() {
            // Nobody else is writing: this turn goes straight in (a quiet server pays no extra hop for batching).
            let result: Result<[TranscriptEntry], any Error>
            do {
                result = .success(try await write { db in try Self.record(turn, maskedTexts: masked, in: db) })
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
                // Nearly always every turn of a batch goes in: one pass, with no savepoint per turn.
                results = try await write { db in
                    try batch.map { .success(try Self.record($0.turn, maskedTexts: $0.maskedTexts, in: db)) }
                }
            } catch {
                // A turn failed and the whole batch was rolled back: write it again, each turn in a savepoint of its
                // own, so only the turns that fail are lost.
                results = await writeOneByOne(batch)
            }
            for (waiting, result) in zip(batch, results) { waiting.continuation.resume(with: result) }
        }
    }

    /// Writes a batch in one transaction, each turn in its own savepoint: a turn that fails leaves the others whole.
    private func writeOneByOne(_ batch: [TurnQueue.Waiting]) async -> [Result<[TranscriptEntry], any Error>] {
        do {
            return try await write { db in
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
            return batch.map { _ in .failure(error) }
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
        return try await write { db in
            try Self.touchSession(sessionID, at: at, in: db)
            return try Self.insertEntries(entries, maskedTexts: masked, sessionID: sessionID, in: db)
        }
    }

    /// What `record(_:)` does, inside the caller's write transaction. `maskedTexts` are the entries' texts,
    /// already masked (masking runs before the transaction so the writer is held as briefly as possible).
    /// Plain cached statements: this runs for every message, and record encoding and a fetch of the session row
    /// cost more than the writes themselves.
    static func record(_ turn: ChatTurn, maskedTexts: [String], in db: Database) throws -> [TranscriptEntry] {
        var created = false
        if turn.startsSession {
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO session (id, createdAt, updatedAt, kbVersion, context, closedAt)
                VALUES (?, ?, ?, ?, ?, NULL)
                """).execute(arguments: [turn.sessionID, turn.at.storage, turn.at.storage, turn.kbVersion, turn.context])
            created = db.changesCount == 1
        }
        // Already there (a first exchange whose reply failed after it was stored, say): updated as any other.
        if !created {
            try db.cachedStatement(sql: "UPDATE session SET context = ?, kbVersion = ?, updatedAt = ? WHERE id = ?")
                .execute(arguments: [turn.context, turn.kbVersion, turn.at.storage, turn.sessionID])
            guard db.changesCount == 1 else { throw StoreError.unknownSession(id: turn.sessionID) }
        }
        return try insertEntries(turn.entries, maskedTexts: maskedTexts, sessionID: turn.sessionID, in: db)
    }

    /// Moves the session's updatedAt on. Throws `StoreError.unknownSession` if the session was never created.
    static func touchSession(_ id: String, at: Date, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE session SET updatedAt = ? WHERE id = ?").execute(arguments: [at.storage, id])
        guard db.changesCount == 1 else { throw StoreError.unknownSession(id: id) }
    }

    /// Inserts `entries` under `sessionID` (which must exist) with the given (masked) texts.
    /// - Returns: the entries as stored, with their ids.
    static func insertEntries(
        _ entries: [TranscriptEntry], maskedTexts: [String], sessionID: String, in db: Database
    ) throws -> [TranscriptEntry] {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO transcriptEntry (sessionID, at, speaker, text, intent, confidence, action, kbVersion, ticketID, author)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var stored: [TranscriptEntry] = []
        stored.reserveCapacity(entries.count)
        for (entry, text) in zip(entries, maskedTexts) {
            let at = entry.at.storage
            try insert.execute(arguments: [sessionID, at, entry.speaker.rawValue, text, entry.intent, entry.confidence,
                                           entry.action?.rawValue, entry.kbVersion, entry.ticketID, entry.author])
            stored.append(TranscriptEntry(
                id: db.lastInsertedRowID, sessionID: sessionID, at: Date(storage: at), speaker: entry.speaker,
                text: text, intent: entry.intent, confidence: entry.confidence, action: entry.action,
                kbVersion: entry.kbVersion, ticketID: entry.ticketID, author: entry.author))
        }
        return stored
    }

    /// Marks the session closed. Throws `StoreError.unknownSession` if it was never created.
    public func closeSession(id: String, at: Date) async throws {
        try await write { db in
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
