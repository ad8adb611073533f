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

    @Option(help: "Agent port (JSON Lines, token login; 0 picks a free one).")
    var agentPort: Int = 7701

    @Option(help: "Web port: the demo shop page (/), the chat widget (/widget.js), the agent console (/agent) and their WebSockets (0 picks a free one).")
    var httpPort: Int = 7780

    @Flag(help: "Don't start the web listener (customers then use the TCP port only).")
    var noWeb = false

    @Option(help: ArgumentHelp("A site whose pages may use the chat widget, like https://shop.example (repeat for more; * allows any). The server's own pages are always allowed.", valueName: "origin"))
    var allowedOrigin: [String] = []

    @Option(help: "Seconds an agent who drops mid-chat keeps their chats before they go back to the front of the line.")
    var agentGrace: Int = 30

    @Option(help: "Seconds a waiting customer who drops may take to come back before their ticket is abandoned.")
    var customerGrace: Int = 120

    @Option(help: "SQLite database file for sessions and transcripts (created if missing).")
    var db: String = "supportbot.sqlite"

    @Option(help: "Longest message line in bytes; longer lines get 'line_too_long' and are closed.")
    var maxLine: Int = 4096

    @Option(help: "Most customer connections at once; more get 'server_full'.")
    var maxConnections: Int = 10_000

    @Option(help: "Most connections at once from one client address, on each port; more get 'too_many_connections'. 0 turns the limit off (needed behind a proxy, where every client has the proxy's address).")
    var maxPerAddress: Int = 256

    @Option(help: "Messages per second each connection may send on average, after a burst.")
    var rateLimit: Double = 5

    @Option(help: "Messages a connection may send at once before the per-second limit applies.")
    var rateBurst: Int = 20

    @Option(help: "Seconds of silence before a connection is closed with 'idle_timeout'.")
    var idleTimeout: Int = 600

    @Flag(help: "Serve the files in --intents and --knowledge directly and reload them when they change (for writers trying things out). Without it the server serves the newest published version (`supportbot kb publish`).")
    var dev = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535.") }
        guard (0...65535).contains(agentPort) else { throw ValidationError("--agent-port must be from 0 to 65535.") }
        guard port == 0 || agentPort != port else {
            throw ValidationError("--agent-port must differ from --port: customers and agents need their own ports.")
        }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be from 0 to 65535.") }
        guard noWeb || httpPort == 0 || (httpPort != port && httpPort != agentPort) else {
            throw ValidationError("--http-port must differ from --port and --agent-port.")
        }
        for origin in allowedOrigin where origin != "*" {
            guard let url = URL(string: origin), let scheme = url.scheme, ["http", "https"].contains(scheme),
                  url.host != nil, url.path.isEmpty || url.path == "/", url.query == nil else {
                throw ValidationError("--allowed-origin '\(origin)' is not an origin. Give the scheme and host "
                    + "(and port if not the default), like https://shop.example or http://localhost:8080.")
            }
        }
        guard (1...86_400).contains(agentGrace) else { throw ValidationError("--agent-grace must be from 1 to 86400 seconds.") }
        guard (1...86_400).contains(customerGrace) else {
            throw ValidationError("--customer-grace must be from 1 to 86400 seconds.")
        }
        guard maxLine >= 64 else { throw ValidationError("--max-line must be at least 64 bytes.") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1.") }
        guard maxPerAddress >= 0 else { throw ValidationError("--max-per-address must be 0 (no limit) or more.") }
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

        // Files are checked before a new database file is created, so a broken first start leaves nothing behind.
        let newDatabase = !FileManager.default.fileExists(atPath: (db as NSString).expandingTildeInPath)
        let files = dev || newDatabase ? try checkedFiles() : nil
        let database: SupportBotDatabase
        do {
            database = try SupportBotDatabase.open(path: db)
        } catch {
            throw UserFacingError("Not starting: \(error)")
        }
        let engine = try await startingEngine(database: database, files: files)
        let knowledgeBase = engine.knowledgeBase
        let version = engine.version

        var configuration = SupportBotApplication.Configuration()
        configuration.server.host = host
        configuration.server.port = port
        configuration.server.maxLineBytes = maxLine
        configuration.server.maxConnections = maxConnections
        configuration.server.maxConnectionsPerAddress = maxPerAddress
        configuration.server.ratePerSecond = rateLimit
        configuration.server.rateBurst = rateBurst
        configuration.server.idleTimeoutSeconds = Int64(idleTimeout)
        configuration.server.agentPort = agentPort
        configuration.server.httpPort = httpPort
        configuration.server.allowedOrigins = allowedOrigin
        var handoff = HandoffTimings()
        handoff.agentGraceSeconds = Double(agentGrace)
        handoff.customerGraceSeconds = Double(customerGrace)
        configuration.handoff = handoff
        configuration.web = !noWeb
        configuration.knowledge = dev ? .files(intents: knowledge.intents, knowledge: knowledge.knowledge) : .published
        let live = LiveEngine(engine)
        let app: SupportBotApplication
        do {
            app = try await SupportBotApplication.start(configuration, database: database, engine: live, logger: logger)
        } catch let error as SupportBotApplication.ListenError {
            let flag = switch error.listener {
            case .chat: "--port"
            case .agents: "--agent-port"
            case .web: "--http-port"
            }
            throw Self.listenError(error, flag: flag)
        }
        MoodDetector.prepare()
        live.engine.moodDetector.prepareModels()
        logger.info("SupportBot is listening", metadata: [
            "chat": .string("\(host):\(app.chat.port)"),
            "agents": .string("\(host):\(app.agents?.port ?? 0)"),
            "web": .string(app.web.map { "http://\(host):\($0.port)/" } ?? "off"),
            "kb_version": .stringConvertible(version),
            "intents": .stringConvertible(knowledgeBase.intents.count),
            "database": .string(database.path ?? db),
        ])
        let group = app.serviceGroup(logger: logger)
        try await group.run()
        try? await database.checkpoint()
        try? database.close()
        if let failure = database.writeFailure {
            logger.error("SupportBot stopped, but the last writes failed: some messages were not stored",
                         metadata: ["error": .string(PIIMasker.mask(failure.reason))])
        } else {
            logger.info("SupportBot stopped; all messages are stored")
        }
    }

    /// What to serve first: with `--dev` the files (version 0); otherwise the newest published version, or, when
    /// there is none yet, the files (already checked) published as the first version.
    private func startingEngine(database: SupportBotDatabase, files: SupportEngine?) async throws -> SupportEngine {
        if dev, let files { return files }
        if let latest = try await database.latestKnowledgeVersion() {
            do {
                let knowledgeBase = try KnowledgeLoader.load(files: try await database.knowledgeFiles(version: latest.number))
                return LearningFolder.engine(for: knowledgeBase, version: latest.number)
            } catch {
                throw UserFacingError("Not starting: published version \(latest.number) does not load: \(error). "
                    + "Roll back with: supportbot kb rollback N")
            }
        }
        let checked = try files ?? checkedFiles()
        let version = try await database.registerKnowledgeVersion(
            contentHash: checked.knowledgeBase.contentHash, files: checked.knowledgeBase.files,
            author: "supportbot serve", message: "First version, published from the files at first start", at: Date())
        // The engine built for the checks serves as it is: only its number changes.
        return checked.renumbered(version.number)
    }

    /// An engine (version 0) for the files in --intents and --knowledge; outside --dev they must also pass lint and
    /// the conversation tests.
    private func checkedFiles() throws -> SupportEngine {
        let knowledgeBase: KnowledgeBase
        do {
            knowledgeBase = try knowledge.loadKnowledgeBase()
        } catch let error as UserFacingError {
            throw UserFacingError("Not starting: \(error.description)")
        }
        let engine = LearningFolder.engine(for: knowledgeBase, version: 0)
        if dev { return engine }
        let problems = KnowledgePublisher.blockers(engine)
        guard problems.isEmpty else {
            throw UserFacingError("Not starting: the knowledge files can't be published as the first version:\n"
                + problems.joined(separator: "\n"))
        }
        return engine
    }

    private static func listenError(_ error: SupportBotApplication.ListenError, flag: String) -> UserFacingError {
        if error.portInUse {
            return UserFacingError("Can't listen on \(error.host):\(error.port): another program uses that port. "
                + "Stop it, or pass \(flag) with a free port.")
        }
        return UserFacingError("Can't listen on \(error.host):\(error.port): \(error.underlying). Check --host and \(flag).")
    }
}
