import Foundation
import SupportBotCore
@testable import SupportBotServer
@testable import SupportBotStore
import Testing

@Suite("Database failures on the command line", .timeLimit(.minutes(10)))
struct DatabaseCommandLineTests {
    /// A database whose transcript table has one stored chat of `turns` exchanges.
    private func database(in folder: TemporaryDirectory, turns: Int) async throws -> (path: String, session: String) {
        let path = folder.url.appendingPathComponent("shop.sqlite").path
        let database = try SupportBotDatabase.open(path: path)
        let session = "s-damagedpagetest"
        try await database.createSession(id: session, at: Date(), kbVersion: 1, context: "{}")
        for n in 0..<turns {
            _ = try await database.append([
                TranscriptEntry(sessionID: session, at: Date(), speaker: .customer, text: "where is my order \(n)"),
                TranscriptEntry(sessionID: session, at: Date(), speaker: .bot, text: "It is on its way, \(n)."),
            ], sessionID: session, at: Date())
        }
        try await database.checkpoint()
        let (page, size) = try await database.rootPageForTesting(of: "transcriptEntry")
        try database.close()
        #expect(page > 1)
        // The transcript's first page is overwritten with junk, as a failing disk or a bad copy might leave it.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: UInt64((page - 1) * size))
        handle.write(Data(repeating: 0xA5, count: size))
        try handle.close()
        return (path, session)
    }

    @Test("a damaged page found after the file opened is explained, not printed as SQLite's error (D9)")
    func damagedPageIsExplained() async throws {
        let folder = try TemporaryDirectory()
        let (path, session) = try await database(in: folder, turns: 200)
        let result = try await SupportBotCLI.run(["transcript", session, "--db", path], folder: folder)
        #expect(result.status == 1)
        let error = result.stderrLines.filter { $0.hasPrefix("Error:") }
        #expect(error.count == 1, "\(result.stderr)")
        #expect(error.first?.contains("is damaged") == true, "\(result.stderr)")
        #expect(error.first?.contains(".recover") == true, "\(result.stderr)")
        #expect(!result.stderr.contains("SQLite error"), "\(result.stderr)")
        #expect(!result.stderr.contains("SELECT"), "\(result.stderr)")
    }
}
