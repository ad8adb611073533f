import Foundation
import Testing
import SupportBotCore
@testable import SupportBotStore

/// The publishing rules on their own, without the binary: what blocks a publish, storing versions, and a publish
/// that would undo a rollback.
@Suite("Publishing a knowledge base")
struct KnowledgePublisherTests {
    static let files: [String: String] = [
        "knowledge/_settings.yml": "shop_name: Bike Shop\nemail: help@bikes.example\n",
        "intents/shop.yml": """
            - id: shop.hours
              title: Opening hours
              reply: We are open 9 to 5, Monday to Saturday.
              examples:
                - when are you open
                - what are your opening hours
                - are you open on saturday
            - id: repair.price
              title: Repair prices
              reply: A basic tune-up costs 40 pounds.
              examples:
                - how much is a repair
                - what does a tune up cost
                - price of fixing my bike
            """,
        "intents/tests/shop.yml": """
            - name: hours
              steps:
                - say: when are you open
                  intent: shop.hours
                  action: answer
            """,
    ]

    static func engine(_ files: [String: String]) throws -> SupportEngine {
        SupportEngine(knowledgeBase: try KnowledgeLoader.load(files: files), version: 0)
    }

    @Test("good files pass; a duplicated example and a failing conversation test each block the publish, named")
    func blockers() throws {
        #expect(KnowledgePublisher.blockers(try Self.engine(Self.files)).isEmpty)
        var broken = Self.files
        broken["intents/shop.yml"]! += "\n    - when are you open\n"
        broken["intents/tests/shop.yml"] = Self.files["intents/tests/shop.yml"]!
            .replacingOccurrences(of: "intent: shop.hours", with: "intent: repair.price")
        let problems = KnowledgePublisher.blockers(try Self.engine(broken))
        #expect(problems.contains { $0.contains("\"when are you open\" is also an example of shop.hours") }, "\(problems)")
        #expect(problems.contains { $0.contains("intents/tests/shop.yml") && $0.contains("test \"hours\"") },
                "\(problems)")
    }

    @Test("a version is stored once: the same files again make no new version; a rollback's version is named so")
    func storing() async throws {
        let database = try SupportBotDatabase.inMemory()
        let knowledgeBase = try KnowledgeLoader.load(files: Self.files)
        let first = try await KnowledgePublisher.store(knowledgeBase, in: database, author: "ann", message: "first",
                                                       at: Date(timeIntervalSince1970: 1_000))
        #expect(first.isNew && first.version.number == 1)
        let again = try await KnowledgePublisher.store(knowledgeBase, in: database, author: "bo", message: "again",
                                                       at: Date(timeIntervalSince1970: 2_000))
        #expect(!again.isNew && again.version.number == 1)
        #expect(KnowledgePublisher.rollbackMessage(to: 3) == "Rollback to version 3")
    }

    @Test("right after a rollback, files that bring back what it took out are caught, with the files named")
    func undoingARollback() async throws {
        let database = try SupportBotDatabase.inMemory()
        let one = try KnowledgeLoader.load(files: Self.files)
        var changed = Self.files
        changed["intents/shop.yml"] = Self.files["intents/shop.yml"]!.replacingOccurrences(of: "9 to 5", with: "8 to 6")
        let two = try KnowledgeLoader.load(files: changed)
        let at = Date(timeIntervalSince1970: 1_000)
        _ = try await KnowledgePublisher.store(one, in: database, author: "ann", message: "one", at: at)
        _ = try await KnowledgePublisher.store(two, in: database, author: "ann", message: "two", at: at)
        #expect(try await KnowledgePublisher.undoneRollback(of: two.files, in: database) == nil, "no rollback yet")
        _ = try await KnowledgePublisher.store(one, in: database, author: "ann",
                                               message: KnowledgePublisher.rollbackMessage(to: 1), at: at)
        let undone = try #require(try await KnowledgePublisher.undoneRollback(of: two.files, in: database))
        #expect(undone == .init(rollback: 3, target: 1, undone: 2, paths: ["intents/shop.yml"]))
        #expect(try await KnowledgePublisher.undoneRollback(of: one.files, in: database) == nil)
    }
}
