import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SupportBotCore
import SupportBotStore

/// The agent listener: JSON Lines over TCP, token login, one `AgentSession` per connection.
public final class AgentServer: Service, Sendable {
    public let desk: HandoffDesk
    private let listener: LineListener

    public var localAddress: SocketAddress? { listener.localAddress }
    public var port: Int { listener.port }
    /// This protocol's connections, over TCP and WebSocket alike.
    var connections: LineConnections { listener.connections }

    private init(desk: HandoffDesk, listener: LineListener) {
        self.desk = desk
        self.listener = listener
    }

    public static func bind(services: ChatServices, desk: HandoffDesk,
                            group: MultiThreadedEventLoopGroup = .singleton) async throws -> AgentServer {
        let configuration = services.configuration
        let limits = ListenerLimits(
            host: configuration.host, port: configuration.agentPort, maxLineBytes: configuration.maxLineBytes,
            maxConnections: configuration.maxAgentConnections, idleTimeoutSeconds: configuration.agentIdleTimeoutSeconds,
            maxPerAddress: configuration.maxConnectionsPerAddress,
            login: LoginRule(deadlineSeconds: Double(configuration.agentLoginDeadlineSeconds), clock: services.clock,
                             timeoutLine: AgentEvent.error(.loginTimeout, "You did not log in in time, so this "
                                 + "connection is closed. Connect again and log in with your token.").jsonLine(),
                             displacedLine: AgentEvent.error(.loginTimeout, "This connection had not logged in, and "
                                 + "the agent port was full, so it was closed to make room. Connect again and log in "
                                 + "with your token.").jsonLine()))
        let loginGuard = LoginGuard(policy: .init(allowedFailures: configuration.agentLoginFailuresAllowed,
                                                  refillSeconds: configuration.agentLoginRetrySeconds),
                                    logger: services.logger)
        let listener = try await LineListener.bind(name: "Agent", limits: limits, logger: services.logger,
                                                   group: group) { outbox in
            AgentSession(database: services.database, desk: desk, logger: services.logger, outbox: outbox,
                         loginGuard: loginGuard, rateBurst: configuration.agentRateBurst,
                         ratePerSecond: configuration.agentRatePerSecond)
        }
        return AgentServer(desk: desk, listener: listener)
    }

    public func run() async throws {
        try await listener.run()
        await desk.stop()
    }

    public func stopAccepting() { listener.stopAccepting() }
}
