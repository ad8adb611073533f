import Foundation
import Testing
@testable import SupportBotStore

@Suite("Opening a database")
struct OpeningTests {
    @Test func aMissingFolderGivesAClearError() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("missing/bot.sqlite")
        let error = try #require(throws: StoreError.self) { try SupportBotDatabase.open(path: path) }
        #expect(error == .folderMissing(path: path, folder: folder.file("missing")))
        #expect(error.description == "Can't open the database at \(path): the folder \(folder.file("missing")) "
            + "does not exist. Create it or pass --db with another path.")
        #expect(!FileManager.default.fileExists(atPath: folder.file("missing")))
    }

    @Test func aFileThatIsNotADatabaseGivesAClearErrorAndIsLeftAlone() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("notes.txt")
        let content = Data(String(repeating: "These are my notes, not a database.\n", count: 200).utf8)
        try content.write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: StoreError.self) { try SupportBotDatabase.open(path: path) }
        #expect(error == .notADatabase(path: path))
        #expect(error.description.contains(path))
        #expect(error.description.contains("not a SQLite database"))
        #expect(FileManager.default.contents(atPath: path) == content)
    }

    @Test func aFolderInsteadOfAFileGivesAClearError() throws {
        let folder = try TemporaryFolder()
        let error = try #require(throws: StoreError.self) { try SupportBotDatabase.open(path: folder.path) }
        #expect(error == .pathIsAFolder(path: folder.path))
        #expect(error.description.contains("that is a folder"))
    }

    @Test func aFileInsteadOfAFolderGivesAClearError() throws {
        let folder = try TemporaryFolder()
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.file("plain")))
        let path = folder.file("plain/bot.sqlite")
        let error = try #require(throws: StoreError.self) { try SupportBotDatabase.open(path: path) }
        #expect(error == .folderIsAFile(path: path, folder: folder.file("plain")))
    }

    @Test func aReadOnlyFolderGivesAClearError() throws {
        // root ignores permissions, so this only means something for ordinary users.
        guard getuid() != 0 else { return }
        let folder = try TemporaryFolder()
        let locked = folder.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked) }
        let path = locked + "/bot.sqlite"
        let error = try #require(throws: StoreError.self) { try SupportBotDatabase.open(path: path) }
        #expect(error == .permissionDenied(path: path, target: "the folder \(locked)"))
    }

    @Test func aDatabaseFromANewerVersionIsRefused() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("bot.sqlite")
        let database = try SupportBotDatabase.open(path: path)
        try await database.recordFutureMigrationForTesting("v9-from-the-future")
        try database.close()

        let error = try #require(throws: StoreError.self) { try SupportBotDatabase.open(path: path) }
        #expect(error == .newerSchema(path: path, unknownMigrations: ["v9-from-the-future"]))
        #expect(error.description.contains("newer version of SupportBot"))
    }

    @Test func anEmptyFileBecomesADatabase() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("empty.sqlite")
        FileManager.default.createFile(atPath: path, contents: Data())
        let database = try SupportBotDatabase.open(path: path)
        #expect(try await database.appliedMigrations().count == 5)
    }

    @Test func inMemoryDatabasesAreIndependent() async throws {
        let one = try SupportBotDatabase.inMemory()
        let two = try SupportBotDatabase.inMemory()
        #expect(one.path == nil)
        try await one.createSession(id: "s1", at: .fixture(), kbVersion: 1, context: "{}")
        #expect(try await two.session(id: "s1") == nil)
        #expect(try await one.appliedMigrations() == [
            "v1-sessions-transcripts", "v1-knowledge-versions", "v2-handoff", "v3-drop-session-updatedAt-index",
            "v4-ticket-reply-email",
        ])
    }
}
