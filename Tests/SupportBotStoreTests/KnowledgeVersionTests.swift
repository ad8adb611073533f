import Foundation
import Testing
@testable import SupportBotStore

@Suite("Knowledge-base versions")
struct KnowledgeVersionTests {
    @Test func versionsDedupeByHashAndIncrease() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        #expect(try await database.latestKnowledgeVersion() == nil)
        #expect(try await database.knowledgeVersions().isEmpty)

        let filesV1 = ["intents/orders.yml": "order_status: ...", "articles/returns.md": "# Returns"]
        let v1 = try await database.registerKnowledgeVersion(
            contentHash: "aaa", files: filesV1, author: "ann", message: "first", at: .fixture())
        #expect(v1 == KnowledgeVersion(number: 1, contentHash: "aaa", createdAt: .fixture(), author: "ann",
                                       message: "first"))

        let again = try await database.registerKnowledgeVersion(
            contentHash: "aaa", files: filesV1, author: "bob", message: "no change", at: .fixture(60))
        #expect(again == v1)

        let filesV2 = ["intents/orders.yml": "order_status: changed"]
        let v2 = try await database.registerKnowledgeVersion(
            contentHash: "bbb", files: filesV2, author: "bob", message: "second", at: .fixture(120))
        #expect(v2.number == 2)

        // Going back to earlier content is a new version: history only moves forward.
        let v3 = try await database.registerKnowledgeVersion(
            contentHash: "aaa", files: filesV1, author: "ann", message: "revert", at: .fixture(180))
        #expect(v3.number == 3)

        #expect(try await database.knowledgeVersions().map(\.number) == [1, 2, 3])
        #expect(try await database.latestKnowledgeVersion() == v3)
        #expect(try await database.knowledgeFiles(version: 1) == filesV1)
        #expect(try await database.knowledgeFiles(version: 2) == filesV2)
        #expect(try await database.knowledgeFiles(version: 3) == filesV1)
    }

    @Test func anEmptyKnowledgeBaseIsAVersionToo() async throws {
        let database = try SupportBotDatabase.inMemory()
        let version = try await database.registerKnowledgeVersion(
            contentHash: "empty", files: [:], author: "ann", message: "empty", at: .fixture())
        #expect(try await database.knowledgeFiles(version: version.number) == [:])
    }

    @Test func anUnknownVersionIsAnError() async throws {
        let database = try SupportBotDatabase.inMemory()
        await #expect(throws: StoreError.unknownKnowledgeVersion(number: 4)) {
            try await database.knowledgeFiles(version: 4)
        }
    }

    @Test func concurrentRegistrationsOfTheSameContentMakeOneVersion() async throws {
        let folder = try TemporaryFolder()
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        try await withThrowingTaskGroup(of: KnowledgeVersion.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await database.registerKnowledgeVersion(
                        contentHash: "same", files: ["a.yml": "x"], author: "ci", message: "deploy", at: .fixture())
                }
            }
            for try await version in group { #expect(version.number == 1) }
        }
        #expect(try await database.knowledgeVersions().count == 1)
    }
}
