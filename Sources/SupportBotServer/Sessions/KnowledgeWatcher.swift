import Foundation
import Logging
import ServiceLifecycle
import SupportBotCore
import SupportBotStore

/// Swaps a new knowledge-base version into the running server: either the newest version published to the
/// database (`supportbot kb publish`), or, in development, the files on disk whenever they change. Replies in
/// progress finish with the engine they started with; a version that fails to load is logged and skipped, so it
/// can never take the server down.
public final class KnowledgeWatcher: Service, Sendable {
    public enum Source: Sendable {
        /// Published versions in the database.
        case published
        /// The files in these folders (`serve --dev`); the engine's version stays 0.
        case files(intents: String, knowledge: String)
    }

    private let source: Source
    private let database: SupportBotDatabase
    private let engine: LiveEngine
    private let logger: Logger
    private let interval: Duration

    public init(source: Source, database: SupportBotDatabase, engine: LiveEngine, logger: Logger,
                interval: Duration = .seconds(1)) {
        self.source = source
        self.database = database
        self.engine = engine
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.watch() }
    }

    private func watch() async {
        var skipped: Set<String> = []
        var lastHash = engine.engine.knowledgeBase.contentHash
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            switch source {
            case .published:
                await checkPublished(skipped: &skipped)
            case .files(let intents, let knowledge):
                await checkFiles(intents: intents, knowledge: knowledge, lastHash: &lastHash, skipped: &skipped)
            }
        }
    }

    private func checkPublished(skipped: inout Set<String>) async {
        let latest: KnowledgeVersion
        let files: [String: String]
        do {
            guard let newest = try await database.latestKnowledgeVersion(), newest.number > engine.engine.version,
                  !skipped.contains("\(newest.number)") else { return }
            latest = newest
            files = try await database.knowledgeFiles(version: newest.number)
        } catch {
            // A passing database hiccup: try again on the next tick.
            logger.warning("Could not read the published versions; will try again", metadata: ["error": .string("\(error)")])
            return
        }
        do {
            let number = latest.number
            engine.swap(to: try await Self.buildBesideChats(files: files, version: number))
            logger.info("Swapped in a new knowledge version", metadata: [
                "kb_version": .stringConvertible(latest.number), "message": .string(latest.message),
            ])
        } catch {
            // Only a version whose files don't load is skipped for good.
            skipped.insert("\(latest.number)")
            logger.error("Could not load the newest knowledge version; still serving the one before",
                         metadata: ["kb_version": .stringConvertible(latest.number), "error": .string("\(error)")])
        }
    }

    /// Loads and builds a version while chats are being served: on a thread of its own that steps aside for them
    /// (`EngineBuild.oneCore`), so their replies stay on time.
    private static func buildBesideChats(files: [String: String], version: Int) async throws -> SupportEngine {
        try await LiveEngine.offPool {
            try EngineBuild.oneCore.run {
                let engine = LearningFolder.engine(for: try KnowledgeLoader.load(files: files), version: version,
                                                   build: .oneCore)
                // Adapted here, beside the chats, not at the first customer's message.
                engine.moodDetector.prepareModels()
                return engine
            }
        }
    }

    private func checkFiles(intents: String, knowledge: String, lastHash: inout String,
                            skipped: inout Set<String>) async {
        let files: [String: String]
        do {
            files = try KnowledgeFiles.read(intentsDirectory: intents, knowledgeDirectory: knowledge)
        } catch {
            let problem = "\(error)"
            if !skipped.contains(problem) {
                skipped.insert(problem)
                logger.error("Can't read the knowledge files; still serving the last good ones",
                             metadata: ["problems": .string(problem)])
            }
            return
        }
        let hash = KnowledgeBase(intents: [], files: files).contentHash
        guard hash != lastHash, !skipped.contains(hash) else { return }
        do {
            let built = try await Self.buildBesideChats(files: files, version: 0)
            engine.swap(to: built)
            lastHash = hash
            logger.info("Reloaded the knowledge files",
                        metadata: ["intents": .stringConvertible(built.knowledgeBase.intents.count)])
        } catch {
            skipped.insert(hash)
            logger.error("The knowledge files have problems; still serving the last good ones",
                         metadata: ["problems": .string("\(error)")])
        }
    }
}
