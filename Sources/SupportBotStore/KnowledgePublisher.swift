import Foundation
import SupportBotCore

/// The rules of publishing a knowledge base, for `kb publish`, `kb rollback` and `serve`'s first start: what stops a
/// publish, what a publish would quietly undo, and storing a version (immutable, numbered; the same files twice make
/// no new version).
public enum KnowledgePublisher {
    /// Lint errors and failing conversation tests: the problems that stop a publish (empty: good to go).
    public static func blockers(_ engine: SupportEngine) -> [String] {
        let knowledgeBase = engine.knowledgeBase
        var problems = KnowledgeLinter.lint(knowledgeBase).filter { $0.severity == .error }.map(\.description)
        let (tests, issues) = ConversationTests.parse(knowledgeBase)
        problems += issues.map(\.description)
        for failure in ConversationTests.run(tests, engine: engine) {
            problems.append("\(failure.location): test \"\(failure.test)\", step \(failure.step): "
                + failure.problems.joined(separator: "; "))
        }
        return problems
    }

    /// The message of a version made by a rollback.
    public static func rollbackMessage(to version: Int) -> String { rollbackPrefix + "\(version)" }
    static let rollbackPrefix = "Rollback to version "

    /// What a rollback took back and new files would bring back.
    public struct UndoneRollback: Sendable, Equatable {
        /// The newest version, the rollback.
        public var rollback: Int
        /// The version it went back to.
        public var target: Int
        /// The version it rolled back from.
        public var undone: Int
        /// The files that are as in `undone`, where `undone` and `target` differ.
        public var paths: [String]
    }

    /// What a rollback took back, when files about to be published bring it back: right after a rollback (the newest
    /// version), the files in which the version it rolled back differs from the one it went back to, and that the
    /// new files have as in the rolled-back version. A writer's folder still holds the rolled-back files, so an edit
    /// published from it would quietly undo the rollback. Nil when the newest version is not a rollback, or nothing
    /// it took back comes back.
    public static func undoneRollback(of files: [String: String], in db: SupportBotDatabase) async throws
        -> UndoneRollback? {
        guard let latest = try await db.latestKnowledgeVersion(), latest.message.hasPrefix(rollbackPrefix),
              let target = Int(latest.message.dropFirst(rollbackPrefix.count)), latest.number >= 2 else { return nil }
        let undone = latest.number - 1
        guard undone != target else { return nil }
        let before = try await db.knowledgeFiles(version: undone)
        let after = try await db.knowledgeFiles(version: target)
        let paths = Set(before.keys).union(after.keys).filter {
            before[$0] != after[$0] && files[$0] == before[$0]
        }.sorted()
        return paths.isEmpty ? nil : UndoneRollback(rollback: latest.number, target: target, undone: undone, paths: paths)
    }

    /// Stores the files as a new version unless the newest already has them; says which.
    public static func store(_ knowledgeBase: KnowledgeBase, in db: SupportBotDatabase, author: String,
                             message: String, at: Date) async throws -> (version: KnowledgeVersion, isNew: Bool) {
        let before = try await db.latestKnowledgeVersion()
        let version = try await db.registerKnowledgeVersion(
            contentHash: knowledgeBase.contentHash, files: knowledgeBase.files, author: author, message: message, at: at)
        return (version, version.number != before?.number)
    }
}
