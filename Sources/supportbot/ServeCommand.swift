import ArgumentParser
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SupportBotCore
import SupportBotServer
import SupportBotStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the chat server (JSON Lines over TCP) with the knowledge base and a SQLite file.")

    @OptionGroup var knowledge: KnowledgeOptions

    @Option(help: "Address to listen on. Keep 127.0.0.1 unless a proxy in front needs another.")
    var host: String = "127.0.0.1"

    @Option(help: "Customer chat port (0 picks a free one).")
    var port: Int = 7700

    @Option(help: "SQLite database file for sessions and transcripts (created if missing).")
    var db: String = "supportbot.sqlite"

    @Option(help: "Longest message line in bytes; longer lines get 'line_too_long' and are closed.")
    var maxLine: Int = 4096

    @Option(help: "Most customer connections at once; more get 'server_full'.")
    var maxConnections: Int = 10_000

    @Option(help: "Messages per second each connection may send on average, after a burst.")
    var rateLimit: Double = 5

    @Option(help: "Messages a connection may send at once before the per-second limit applies.")
    var rateBurst: Int = 20

    @Option(help: "Seconds of silence before a connection is closed with 'idle_timeout'.")
    var idleTimeout: Int = 600

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535.") }
        guard maxLine >= 64 else { throw ValidationError("--max-line must be at least 64 bytes.") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1.") }
        guard rateLimit > 0 else { throw ValidationError("--rate-limit must be above 0.") }
        guard rateBurst >= 1 else { throw ValidationError("--rate-burst must be at least 1.") }
        guard (1...86_400).contains(idleTimeout) else {
            throw ValidationError("--idle-timeout must be from 1 to 86400 seconds (one day).")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "supportbot")

        let knowledgeBase: KnowledgeBase
        do {
            knowledgeBase = try knowledge.loadKnowledgeBase()
        } catch let error as UserFacingError {
            throw UserFacingError("Not starting: \(error.description)")
        }
        let database: SupportBotDatabase
        do {
            database = try SupportBotDatabase.open(path: db)
        } catch {
            throw UserFacingError("Not starting: \(error)")
        }
        let version = try await database.registerKnowledgeVersion(
            contentHash: knowledgeBase.contentHash, files: knowledgeBase.files, author: "supportbot serve",
            message: "Published from the files at start-up", at: Date())
        let engine = SupportEngine(knowledgeBase: knowledgeBase, version: version.number)

        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.maxLineBytes = maxLine
        configuration.maxConnections = maxConnections
        configuration.ratePerSecond = rateLimit
        configuration.rateBurst = rateBurst
        configuration.idleTimeoutSeconds = Int64(idleTimeout)
        let services = ChatServices(engine: LiveEngine(engine), database: database, configuration: configuration,
                                    logger: logger)
        let server: ChatServer
        do {
            server = try await ChatServer.bind(services: services)
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw UserFacingError("Can't listen on \(host):\(port): another program uses that port. "
                + "Stop it, or pass --port with a free port.")
        } catch {
            throw UserFacingError("Can't listen on \(host):\(port): \(error). Check --host and --port.")
        }
        logger.info("SupportBot is listening", metadata: [
            "chat": .string("\(host):\(server.port)"),
            "kb_version": .stringConvertible(version.number),
            "intents": .stringConvertible(knowledgeBase.intents.count),
            "database": .string(database.path ?? db),
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [], logger: logger))
        try await group.run()
        try? await database.checkpoint()
        try? database.close()
        logger.info("SupportBot stopped; all messages are stored")
    }
}
