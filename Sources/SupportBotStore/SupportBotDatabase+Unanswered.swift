import Foundation
internal import GRDB

/// A customer message the bot could not answer with confidence.
public struct UnansweredMessage: Sendable, Equatable {
    public var sessionID: String
    public var at: Date
    /// As stored: masked.
    public var text: String
    /// "fallback", "clarify" or "handoff".
    public var outcome: String
}

extension SupportBotDatabase {
    /// Customer messages that ended in a fallback, a "Did you mean…?" or a handoff, newest first.
    public func unansweredMessages(since: Date?, limit: Int = 5000) async throws -> [UnansweredMessage] {
        try await writer.read { db in
            // A bot line stored in the same exchange has the same session and time and a later id.
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.sessionID, c.at, c.text,
                       CASE WHEN c.action = 'handoff' THEN 'handoff' ELSE b.action END AS outcome
                FROM transcriptEntry c
                LEFT JOIN transcriptEntry b
                  ON b.sessionID = c.sessionID AND b.at = c.at AND b.id > c.id AND b.speaker = 'bot'
                WHERE c.speaker = 'customer' AND c.at >= ?
                  AND (c.action = 'handoff' OR b.action IN ('fallback', 'clarify'))
                GROUP BY c.id
                ORDER BY c.at DESC, c.id DESC
                LIMIT ?
                """, arguments: [since?.storage ?? -Double.greatestFiniteMagnitude, limit])
            return rows.map {
                UnansweredMessage(sessionID: $0["sessionID"], at: Date(storage: $0["at"]), text: $0["text"],
                                  outcome: $0["outcome"] ?? "fallback")
            }
        }
    }
}
