import Foundation
import Testing
@testable import SupportBotStore

@Suite("Sessions and transcripts")
struct SessionStoreTests {
    @Test func migrationsCreateTheSchema() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        #expect(try await database.appliedMigrations() == [
            "v1-sessions-transcripts", "v1-knowledge-versions", "v2-handoff", "v3-drop-session-updatedAt-index",
            "v4-ticket-reply-email",
        ])
        #expect(database.path == folder.file("bot.sqlite"))
        #expect(FileManager.default.fileExists(atPath: folder.file("bot.sqlite")))
        #expect(FileManager.default.fileExists(atPath: folder.file("bot.sqlite-wal")))
        #expect(try await database.messageCount() == 0)
        #expect(try await database.latestKnowledgeVersion() == nil)
    }

    @Test func createFetchAndCloseASession() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        let created = Date()  // sub-second precision must survive the round trip
        try await database.createSession(id: "s1", at: created, kbVersion: 3, context: #"{"state":"idle"}"#)

        let session = try #require(try await database.session(id: "s1"))
        #expect(session == StoredSession(
            id: "s1", createdAt: created, updatedAt: created, kbVersion: 3, context: #"{"state":"idle"}"#))
        #expect(try await database.session(id: "nope") == nil)

        try await database.closeSession(id: "s1", at: created.addingTimeInterval(60))
        #expect(try await database.session(id: "s1")?.closedAt == created.addingTimeInterval(60))
    }

    @Test func creatingTheSameSessionTwiceIsRefused() async throws {
        let database = try SupportBotDatabase.inMemory()
        try await database.createSession(id: "s1", at: .fixture(), kbVersion: 1, context: "{}")
        await #expect(throws: StoreError.duplicateSession(id: "s1")) {
            try await database.createSession(id: "s1", at: .fixture(1), kbVersion: 1, context: "{}")
        }
    }

    @Test func aTurnWritesAllEntriesInOrderAndUpdatesTheSession() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        try await database.createSession(id: "s1", at: .fixture(), kbVersion: 1, context: "{}")

        let first = ChatTurn(sessionID: "s1", context: #"{"n":1}"#, kbVersion: 1, entries: [
            TranscriptEntry(sessionID: "s1", at: .fixture(10), speaker: .customer, text: "Where is my order?"),
            TranscriptEntry(sessionID: "s1", at: .fixture(10), speaker: .bot, text: "Which order number?",
                            intent: "order_status", confidence: 0.91, action: .clarify, kbVersion: 1),
        ], at: .fixture(10))
        let stored = try await database.record(first)
        #expect(stored.count == 2)
        #expect(stored.allSatisfy { $0.id != nil })

        let second = ChatTurn(sessionID: "s1", context: #"{"n":2}"#, kbVersion: 2, entries: [
            TranscriptEntry(sessionID: "s1", at: .fixture(20), speaker: .customer, text: "PP-123456"),
            TranscriptEntry(sessionID: "s1", at: .fixture(20), speaker: .bot, text: "It ships tomorrow.",
                            intent: "order_status", confidence: 0.97, action: .answer, kbVersion: 2),
            TranscriptEntry(sessionID: "s1", at: .fixture(21), speaker: .agent, text: "Anything else?"),
        ], at: .fixture(21))
        try await database.record(second)

        let transcript = try await database.transcript(sessionID: "s1")
        #expect(transcript.map(\.text) == [
            "Where is my order?", "Which order number?", "PP-123456", "It ships tomorrow.", "Anything else?",
        ])
        #expect(transcript.map(\.speaker) == [.customer, .bot, .customer, .bot, .agent])
        #expect(transcript[1] == stored[1])
        #expect(transcript[3].intent == "order_status")
        #expect(transcript[3].confidence == 0.97)
        #expect(transcript[3].action == .answer)
        #expect(transcript[3].kbVersion == 2)
        #expect(transcript[2].intent == nil)

        let session = try #require(try await database.session(id: "s1"))
        #expect(session.context == #"{"n":2}"#)
        #expect(session.kbVersion == 2)
        #expect(session.updatedAt == .fixture(21))
        #expect(session.createdAt == .fixture())
        #expect(try await database.messageCount() == 5)
    }

    @Test func entriesOfDifferentSessionsDoNotMix() async throws {
        let database = try SupportBotDatabase.inMemory()
        for id in ["a", "b"] {
            try await database.createSession(id: id, at: .fixture(), kbVersion: 1, context: "{}")
        }
        for (offset, id) in ["a", "b", "a"].enumerated() {
            try await database.record(ChatTurn(sessionID: id, context: "{}", kbVersion: 1, entries: [
                TranscriptEntry(sessionID: id, at: .fixture(Double(offset)), speaker: .customer, text: "\(offset)"),
            ], at: .fixture(Double(offset))))
        }
        #expect(try await database.transcript(sessionID: "a").map(\.text) == ["0", "2"])
        #expect(try await database.transcript(sessionID: "b").map(\.text) == ["1"])
        #expect(try await database.transcript(sessionID: "c").isEmpty)
    }

    @Test("turns from many chats at once share commits; one bad turn fails alone")
    func groupCommit() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        let chats = 200
        for n in 0..<chats {
            try await database.createSession(id: "s\(n)", at: .fixture(), kbVersion: 1, context: "{}")
        }
        // 200 chats with 3 turns each, all at once, plus turns for a session that does not exist.
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for n in 0..<chats {
                group.addTask {
                    for turn in 0..<3 {
                        let entries = [TranscriptEntry(sessionID: "s\(n)", at: .fixture(), speaker: .customer,
                                                       text: "turn \(turn) mail me at jo@example.com")]
                        do {
                            let stored = try await database.record(ChatTurn(
                                sessionID: "s\(n)", context: #"{"turn":\#(turn)}"#, kbVersion: 2, entries: entries,
                                at: .fixture()))
                            guard stored.count == 1, stored[0].id != nil, stored[0].text.contains("[email]") else {
                                return ("s\(n)", false)
                            }
                        } catch {
                            return ("s\(n)", false)
                        }
                    }
                    return ("s\(n)", true)
                }
            }
            for n in 0..<10 {
                group.addTask {
                    let ghost = ChatTurn(sessionID: "ghost\(n)", context: "{}", kbVersion: 1, entries: [
                        TranscriptEntry(sessionID: "ghost\(n)", at: .fixture(), speaker: .customer, text: "boo"),
                    ], at: .fixture())
                    do {
                        try await database.record(ghost)
                        return ("ghost\(n)", false)
                    } catch StoreError.unknownSession {
                        return ("ghost\(n)", true)
                    } catch {
                        return ("ghost\(n)", false)
                    }
                }
            }
            var outcomes: [(String, Bool)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.count == chats + 10)
        let failed = outcomes.filter { !$0.1 }.map(\.0)
        #expect(failed.isEmpty, "\(failed)")
        #expect(try await database.messageCount() == chats * 3)
        #expect(database.turns.largestBatch > 1, "no two turns ever shared a commit")
        for n in [0, 77, 199] {
            let expected = (0..<3).map { "turn \($0) mail me at [email]" }
            let texts = try await database.transcript(sessionID: "s\(n)").map(\.text)
            #expect(texts == expected)
            let session = try #require(try await database.session(id: "s\(n)"))
            #expect(session.context == #"{"turn":2}"#)
            #expect(session.kbVersion == 2)
        }
    }

    @Test("a chat's first exchange creates its session in the same transaction; a second 'first' updates it")
    func firstTurnStartsTheSession() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        func turn(_ text: String, at seconds: Double, starts: Bool) -> ChatTurn {
            ChatTurn(sessionID: "s1", context: #"{"said":"\#(text)"}"#, kbVersion: 4, entries: [
                TranscriptEntry(sessionID: "s1", at: .fixture(seconds), speaker: .customer, text: text),
            ], at: .fixture(seconds), startsSession: starts)
        }
        #expect(try await database.session(id: "s1") == nil)
        try await database.record(turn("hi", at: 10, starts: true))
        #expect(try await database.session(id: "s1") == StoredSession(
            id: "s1", createdAt: .fixture(10), updatedAt: .fixture(10), kbVersion: 4, context: #"{"said":"hi"}"#))
        // A "first" exchange again (its reply failed after it was stored, and the chat tried again): the session is
        // updated, not created twice, and nothing is lost.
        try await database.record(turn("hi again", at: 20, starts: true))
        try await database.record(turn("and then", at: 30, starts: false))
        #expect(try await database.transcript(sessionID: "s1").map(\.text) == ["hi", "hi again", "and then"])
        let session = try #require(try await database.session(id: "s1"))
        #expect(session.createdAt == .fixture(10) && session.updatedAt == .fixture(30))
        #expect(session.context == #"{"said":"and then"}"#)
    }

    @Test func recordingIntoAnUnknownSessionThrowsAndWritesNothing() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        let turn = ChatTurn(sessionID: "ghost", context: "{}", kbVersion: 1, entries: [
            TranscriptEntry(sessionID: "ghost", at: .fixture(), speaker: .customer, text: "hello"),
        ], at: .fixture())
        await #expect(throws: StoreError.unknownSession(id: "ghost")) {
            try await database.record(turn)
        }
        await #expect(throws: StoreError.unknownSession(id: "ghost")) {
            try await database.closeSession(id: "ghost", at: .fixture())
        }
        #expect(try await database.messageCount() == 0)
        #expect(StoreError.unknownSession(id: "ghost").description.contains("ghost"))
    }

    @Test func aFailingTurnWritesNoneOfItsEntries() async throws {
        let database = try SupportBotDatabase.inMemory()
        try await database.createSession(id: "s1", at: .fixture(), kbVersion: 1, context: "{}")
        // The second entry violates the schema (NaN is stored as NULL in a NOT NULL column): the whole turn rolls back.
        let turn = ChatTurn(sessionID: "s1", context: #"{"changed":true}"#, kbVersion: 9, entries: [
            TranscriptEntry(sessionID: "s1", at: .fixture(1), speaker: .customer, text: "one"),
            TranscriptEntry(sessionID: "s1", at: Date(timeIntervalSinceReferenceDate: .nan), speaker: .bot, text: "two"),
        ], at: .fixture(1))
        await #expect(throws: (any Error).self) { try await database.record(turn) }
        #expect(try await database.messageCount() == 0)
        #expect(try await database.session(id: "s1")?.context == "{}")
        #expect(try await database.session(id: "s1")?.kbVersion == 1)
    }

    @Test func reopeningTheFileKeepsEverything() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("bot.sqlite")
        let created = Date()
        do {
            let database = try SupportBotDatabase.open(path: path)
            try await database.createSession(id: "s1", at: created, kbVersion: 1, context: #"{"k":"v"}"#)
            try await database.record(ChatTurn(sessionID: "s1", context: #"{"k":"w"}"#, kbVersion: 1, entries: [
                TranscriptEntry(sessionID: "s1", at: created, speaker: .customer, text: "hi"),
                TranscriptEntry(sessionID: "s1", at: created, speaker: .bot, text: "hello", action: .answer),
            ], at: created))
            _ = try await database.registerKnowledgeVersion(
                contentHash: "h1", files: ["faq.yml": "a: b"], author: "ann", message: "first", at: created)
            try database.close()
        }
        let reopened = try SupportBotDatabase.open(path: path)
        #expect(try await reopened.session(id: "s1")?.context == #"{"k":"w"}"#)
        #expect(try await reopened.session(id: "s1")?.createdAt == created)
        #expect(try await reopened.transcript(sessionID: "s1").map(\.text) == ["hi", "hello"])
        #expect(try await reopened.messageCount() == 2)
        #expect(try await reopened.latestKnowledgeVersion()?.contentHash == "h1")
        #expect(try await reopened.knowledgeFiles(version: 1) == ["faq.yml": "a: b"])
        #expect(try await reopened.appliedMigrations().count == 5)
    }

    @Test func concurrentTurnsLoseNothing() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        let tasks = 50
        let turnsPerTask = 20
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    let id = "session-\(task)"
                    try await database.createSession(id: id, at: .fixture(), kbVersion: 1, context: "{}")
                    for turn in 0..<turnsPerTask {
                        let at = Date.fixture(Double(turn))
                        try await database.record(ChatTurn(sessionID: id, context: #"{"turn":\#(turn)}"#, kbVersion: 1,
                            entries: [
                                TranscriptEntry(sessionID: id, at: at, speaker: .customer, text: "q\(turn)"),
                                TranscriptEntry(sessionID: id, at: at, speaker: .bot, text: "a\(turn)"),
                            ], at: at))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await database.messageCount() == tasks * turnsPerTask * 2)
        #expect(try await database.sessionCount() == tasks)
        let transcript = try await database.transcript(sessionID: "session-7")
        #expect(transcript.map(\.text) == (0..<turnsPerTask).flatMap { ["q\($0)", "a\($0)"] })
        #expect(try await database.session(id: "session-7")?.context == #"{"turn":19}"#)
    }
}

@Suite("Reading a database that can't be written")
struct ReadOnlyOpenTests {
    @Test("reading a copy sees what the write-ahead log holds and leaves no copy behind")
    func readsACopyWithItsLog() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/live.sqlite"
        let live = try SupportBotDatabase.open(path: path)
        try await live.createSession(id: "s-inthelog", at: Date(), kbVersion: 1, context: "{}")
        _ = try await live.append([TranscriptEntry(sessionID: "s-inthelog", at: Date(), speaker: .customer,
                                                   text: "only in the log so far")], sessionID: "s-inthelog", at: Date())
        // Not checkpointed: the new rows are only in live.sqlite-wal, as they are while a server runs.
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        var copy: SupportBotDatabase? = try SupportBotDatabase.openForReading(path: path, copying: true)
        let copyPath = try #require(copy?.path)
        #expect(copyPath != path)
        #expect(try await copy?.transcript(sessionID: "s-inthelog").map(\.text) == ["only in the log so far"])
        try copy?.close()
        copy = nil
        #expect(!FileManager.default.fileExists(atPath: (copyPath as NSString).deletingLastPathComponent))
        try live.close()
    }
}
