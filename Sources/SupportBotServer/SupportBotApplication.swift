import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SupportBotCore
import SupportBotStore

/// Everything one SupportBot server is made of, wired in one place: the chat listener, the handoff desk and its agent
/// listener, the web listener and the knowledge watcher. `serve`, the tests and the benchmarks all start servers
/// through it, so they run what production runs.
public final class SupportBotApplication: Sendable {
    /// What to run, with which limits.
    public struct Configuration: Sendable {
        /// Hosts, ports and limits of the listeners.
        public var server = ServerConfiguration()
        /// Grace periods of the human handoff; nil runs the bot alone (no agent port; handoff topics get their
        /// written reply).
        public var handoff: HandoffTimings? = HandoffTimings()
        /// The web listener: the widget, the demo page, the agent console and their WebSockets.
        public var web = true
        /// Where new knowledge-base versions come from while serving; nil: none are picked up.
        public var knowledge: KnowledgeWatcher.Source? = .published
        /// The time for records and handoff deadlines.
        public var clock: any ServerClock = SystemClock()

        public init() {}
    }

    /// A listener that could not be bound.
    public struct ListenError: Error, CustomStringConvertible {
        public enum Listener: Sendable { case chat, agents, web }
        public var listener: Listener
        public var host: String
        public var port: Int
        public var underlying: any Error

        /// Another program listens on the port.
        public var portInUse: Bool { (underlying as? IOError)?.errnoCode == EADDRINUSE }

        public var description: String { "can't listen on \(host):\(port): \(underlying)" }
    }

    public let configuration: Configuration
    public let services: ChatServices
    public let chat: ChatServer
    public let agents: AgentServer?
    public let web: WebServer?
    public let watcher: KnowledgeWatcher?
    public var desk: HandoffDesk? { services.desk }

    private init(configuration: Configuration, services: ChatServices, chat: ChatServer, agents: AgentServer?,
                 web: WebServer?, watcher: KnowledgeWatcher?) {
        self.configuration = configuration
        self.services = services
        self.chat = chat
        self.agents = agents
        self.web = web
        self.watcher = watcher
    }

    /// Binds every listener (so a taken port fails here, before anything runs, as a `ListenError`) and picks up the
    /// handoff desk where the last run left it. Run it with `serviceGroup` or `run()`.
    public static func start(_ configuration: Configuration, database: SupportBotDatabase, engine: LiveEngine,
                             logger: Logger) async throws -> SupportBotApplication {
        let server = configuration.server
        let desk = configuration.handoff.map {
            HandoffDesk(database: database, engine: engine, configuration: $0, clock: configuration.clock,
                        logger: logger)
        }
        let services = ChatServices(engine: engine, database: database, configuration: server, logger: logger,
                                    desk: desk, clock: configuration.clock)
        func bound<T>(_ listener: ListenError.Listener, port: Int, _ bind: () async throws -> T) async throws -> T {
            do {
                return try await bind()
            } catch {
                throw ListenError(listener: listener, host: server.host, port: port, underlying: error)
            }
        }
        let chat = try await bound(.chat, port: server.port) { try await ChatServer.bind(services: services) }
        var agents: AgentServer?
        var web: WebServer?
        do {
            if let desk {
                agents = try await bound(.agents, port: server.agentPort) {
                    try await AgentServer.bind(services: services, desk: desk)
                }
            }
            if configuration.web {
                web = try await bound(.web, port: server.httpPort) {
                    try await WebServer.bind(chat: chat, agents: agents)
                }
            }
            try await desk?.start()
        } catch {
            chat.stopAccepting()
            agents?.stopAccepting()
            web?.stopAccepting()
            throw error
        }
        let watcher = configuration.knowledge.map {
            KnowledgeWatcher(source: $0, database: database, engine: engine, logger: logger)
        }
        return SupportBotApplication(configuration: configuration, services: services, chat: chat, agents: agents,
                                     web: web, watcher: watcher)
    }

    /// The services, in the order a service group starts them (and stops them in reverse).
    public var serviceList: [any Service] {
        [chat] + (agents.map { [$0] } ?? []) + (watcher.map { [$0] } ?? []) + (web.map { [$0] } ?? [])
    }

    /// A service group running everything, shut down gracefully (a line in progress finishes and is stored; idle
    /// clients are told) on SIGTERM or SIGINT when `onSignals`, or by `triggerGracefulShutdown()`.
    public func serviceGroup(onSignals: Bool = true, logger: Logger) -> ServiceGroup {
        ServiceGroup(configuration: .init(
            services: serviceList.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: onSignals ? [.sigterm, .sigint] : [], cancellationSignals: [], logger: logger))
    }

    /// Stops accepting on every listener and asks every connection to finish and close (what a graceful shutdown
    /// does, without a service group).
    public func stopAccepting() {
        web?.stopAccepting()
        chat.stopAccepting()
        agents?.stopAccepting()
    }
}
