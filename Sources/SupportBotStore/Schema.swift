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

        return migrator
    }
}
