internal import GRDB

/// The schema, one named migration per change. Never edit a migration once released: add a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1-sessions-transcripts") { db in
            try db.create(table: "session") { t in
                t.primaryKey("id", .text)
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("kbVersion", .integer).notNull()
                t.column("context", .text).notNull()
                t.column("closedAt", .double)
            }
            try db.create(index: "session_on_updatedAt", on: "session", columns: ["updatedAt"])

            try db.create(table: "transcriptEntry") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sessionID", .text).notNull().references("session", onDelete: .cascade)
                t.column("at", .double).notNull()
                t.column("speaker", .text).notNull()
                    .check(sql: "speaker IN ('customer', 'bot', 'agent', 'system')")
                t.column("text", .text).notNull()
                t.column("intent", .text)
                t.column("confidence", .double)
                t.column("action", .text)
                t.column("kbVersion", .integer)
            }
            try db.create(index: "transcriptEntry_on_sessionID_at", on: "transcriptEntry", columns: ["sessionID", "at"])
            try db.create(index: "transcriptEntry_on_at", on: "transcriptEntry", columns: ["at"])
        }

        migrator.registerMigration("v1-knowledge-versions") { db in
            try db.create(table: "knowledgeVersion") { t in
                t.primaryKey("number", .integer)
                t.column("contentHash", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("author", .text).notNull()
                t.column("message", .text).notNull()
            }
            try db.create(table: "knowledgeFile") { t in
                t.column("version", .integer).notNull()
                    .references("knowledgeVersion", column: "number", onDelete: .cascade)
                t.column("path", .text).notNull()
                t.column("content", .text).notNull()
                t.primaryKey(["version", "path"])
            }
            // Snapshots are immutable: a change is a new version.
            for table in ["knowledgeVersion", "knowledgeFile"] {
                try db.execute(sql: """
                    CREATE TRIGGER \(table)_is_immutable BEFORE UPDATE ON \(table)
                    BEGIN SELECT RAISE(ABORT, 'knowledge versions are immutable; register a new version'); END
                    """)
            }
        }

        migrator.registerMigration("v2-handoff") { db in
            try db.create(table: "agent") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique().collate(.nocase)
                // Comma-separated, lowercased, sorted, no blanks.
                t.column("skills", .text).notNull()
                t.column("tokenHash", .text).notNull().unique()
                t.column("createdAt", .double).notNull()
            }

            try db.create(table: "ticket") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sessionID", .text).notNull().references("session", onDelete: .cascade)
                t.column("state", .text).notNull()
                    .check(sql: "state IN ('waiting', 'assigned', 'closed', 'abandoned')")
                t.column("reason", .text).notNull()
                t.column("level", .integer).notNull().check(sql: "level BETWEEN 0 AND 4")
                // Comma-separated.
                t.column("tags", .text).notNull()
                // A skill the claiming agent must have, set by a transfer.
                t.column("skill", .text)
                t.column("mood", .double).notNull()
                // Opaque JSON owned by the server.
                t.column("details", .text).notNull()
                t.column("preview", .text).notNull()
                t.column("agentID", .integer).references("agent", onDelete: .setNull)
                t.column("agentName", .text)
                t.column("previousAgentID", .integer)
                t.column("createdAt", .double).notNull()
                t.column("queuedAt", .double).notNull()
                t.column("front", .integer).notNull().defaults(to: 0)
                t.column("claimedAt", .double)
                t.column("closedAt", .double)
                t.column("resolution", .text)
                t.column("rating", .integer).check(sql: "rating BETWEEN 1 AND 5")
                t.column("ratingComment", .text)
                t.column("ratedAt", .double)
            }
            try db.create(index: "ticket_on_state", on: "ticket", columns: ["state"])
            try db.create(index: "ticket_on_sessionID_createdAt", on: "ticket", columns: ["sessionID", "createdAt"])
            // At most one open ticket per session.
            try db.execute(sql: """
                CREATE UNIQUE INDEX ticket_one_open_per_session ON ticket(sessionID)
                WHERE state IN ('waiting', 'assigned')
                """)

            try db.alter(table: "transcriptEntry") { t in
                t.add(column: "ticketID", .integer)
                // The agent's name, for agent lines.
                t.add(column: "author", .text)
            }
        }

        // No query ever looked sessions up by updatedAt, and every exchange moved the session's entry in that index.
        migrator.registerMigration("v3-drop-session-updatedAt-index") { db in
            try db.drop(index: "session_on_updatedAt")
        }

        // Out of hours a waiting customer may leave an address for the team's reply. Kept whole (the team writes to
        // it), in its own column: never in the transcript, which stays masked.
        migrator.registerMigration("v4-ticket-reply-email") { db in
            try db.alter(table: "ticket") { t in
                t.add(column: "replyEmail", .text)
            }
        }

        return migrator
    }
}
