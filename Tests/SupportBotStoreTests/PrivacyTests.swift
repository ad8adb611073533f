import Foundation
import Testing
@testable import SupportBotStore

@Suite("Personal data never reaches the file")
struct PrivacyTests {
    static let email = "jane.doe@example.com"
    static let card = "4111 1111 1111 1111"
    static let cardDigits = "4111111111111111"
    static let phone = "07700 900123"

    /// The bytes of the database file and its -wal and -shm files.
    func fileBytes(_ path: String) -> [Data] {
        ["", "-wal", "-shm"].compactMap { FileManager.default.contents(atPath: path + $0) }
    }

    func contains(_ files: [Data], _ text: String) -> Bool {
        let needle = Data(text.utf8)
        return files.contains { $0.range(of: needle) != nil }
    }

    @Test func storedTextIsMasked() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("bot.sqlite")
        let database = try SupportBotDatabase.open(path: path)
        try await database.createSession(id: "s1", at: .fixture(), kbVersion: 1, context: "{}")
        let text = "I'm \(Self.email), card \(Self.card), call \(Self.phone) about order PP-123456 MARKER-XYZZY"
        let stored = try await database.record(ChatTurn(sessionID: "s1", context: "{}", kbVersion: 1, entries: [
            TranscriptEntry(sessionID: "s1", at: .fixture(1), speaker: .customer, text: text),
            TranscriptEntry(sessionID: "s1", at: .fixture(1), speaker: .agent, text: "Card \(Self.cardDigits)?"),
        ], at: .fixture(1)))

        let expected = "I'm [email], card [card], call [phone] about order PP-123456 MARKER-XYZZY"
        #expect(stored.map(\.text) == [expected, "Card [card]?"])
        #expect(try await database.transcript(sessionID: "s1").map(\.text) == [expected, "Card [card]?"])

        // Before the checkpoint the pages live in the WAL; after it, in the database file. Check both times.
        let beforeCheckpoint = fileBytes(path)
        try await database.checkpoint()
        let afterCheckpoint = fileBytes(path)
        try database.close()
        let afterClose = fileBytes(path)
        for files in [beforeCheckpoint, afterCheckpoint, afterClose] {
            #expect(contains(files, "MARKER-XYZZY"), "the search must be able to find stored text")
            #expect(contains(files, "PP-123456"))
            #expect(!contains(files, Self.email))
            #expect(!contains(files, "jane.doe"))
            #expect(!contains(files, Self.card))
            #expect(!contains(files, Self.cardDigits))
            #expect(!contains(files, Self.phone))
        }
    }
}
