import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import SupportBotCore

/// The customer chat listener: JSON Lines over TCP, one `CustomerSession` per connection.
public final class ChatServer: Service, Sendable {
    public let services: ChatServices
    private let listener: LineListener

    /// The address actually bound (useful with port 0).
    public var localAddress: SocketAddress? { listener.localAddress }
    public var port: Int { listener.port }
    /// Whether the listening socket is still open.
    var isAccepting: Bool { listener.isAccepting }
    /// This protocol's connections, over TCP and WebSocket alike.
    var connections: LineConnections { listener.connections }
    public var activeConnections: Int { listener.activeConnections }

    private init(services: ChatServices, listener: LineListener) {
        self.services = services
        self.listener = listener
    }

    public static func bind(services: ChatServices,
                            group: MultiThreadedEventLoopGroup = .singleton) async throws -> ChatServer {
        let configuration = services.configuration
        let limits = ListenerLimits(host: configuration.host, port: configuration.port,
                                    maxLineBytes: configuration.maxLineBytes,
                                    maxConnections: configuration.maxConnections,
                                    idleTimeoutSeconds: configuration.idleTimeoutSeconds,
                                    maxPerAddress: configuration.maxConnectionsPerAddress)
        let listener = try await LineListener.bind(name: "Chat", limits: limits, logger: services.logger,
                                                   group: group) { outbox in
            CustomerSession(services: services, outbox: outbox)
        }
        return ChatServer(services: services, listener: listener)
    }

    public func run() async throws { try await listener.run() }

    /// Stops accepting and asks every connection to finish what it is doing and close.
    public func stopAccepting() { listener.stopAccepting() }
}

/// Lets a graceful shutdown close a connection between messages, never in the middle of one.
final class ConnectionControl: Sendable {
    private struct State {
        var busy = false
        var stopping = false
        var signedIn = false
    }

    private let state = Mutex(State())
    let channel: any Channel
    /// When the connection arrived, in the listener's count.
    let arrival: UInt64
    /// The client's IP address (without the port), for the limit per address.
    let address: String

    init(channel: any Channel, arrival: UInt64 = 0) {
        self.channel = channel
        self.arrival = arrival
        self.address = channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Whether the client has logged in (on a listener with a `LoginRule`).
    var isSignedIn: Bool { state.withLock { $0.signedIn } }

    func markSignedIn() { state.withLock { $0.signedIn = true } }

    /// Writes `line` and closes (a connection that did not log in in time, or made room for a newer one).
    func close(with line: [UInt8]) {
        let channel = self.channel
        channel.writeAndFlush(ByteBuffer(bytes: line)).whenComplete { _ in channel.close(promise: nil) }
    }

    static let shuttingDownLine = ServerMessage.error(
        code: .shuttingDown,
        message: BotMessages.restarting).jsonLine()

    /// False when the connection is shutting down and should take no more work.
    func beginWork() -> Bool {
        state.withLock { state in
            if state.stopping { return false }
            state.busy = true
            return true
        }
    }

    /// True when a shutdown arrived while working: the caller closes after its reply.
    func endWork() -> Bool {
        state.withLock { state in
            state.busy = false
            return state.stopping
        }
    }

    /// How long a stopping connection gets to finish its reply and take its last lines. A client that stops reading
    /// would otherwise hold the shutdown for ever.
    static let stopGrace: TimeAmount = .seconds(5)

    func stop() {
        let (closeNow, first) = state.withLock { state -> (Bool, Bool) in
            let wasStopping = state.stopping
            state.stopping = true
            return (!state.busy && !wasStopping, !wasStopping)
        }
        if first {
            let channel = self.channel
            channel.eventLoop.scheduleTask(in: Self.stopGrace) { channel.close(promise: nil) }
        }
        guard closeNow else { return }
        channel.writeAndFlush(ByteBuffer(bytes: Self.shuttingDownLine)).whenComplete { _ in self.channel.close(promise: nil) }
    }
}

/// Turns "silent for too long" into an inbound `.idle`, so the connection's handler decides: a customer waiting
/// for a person is kept, anyone else is told why and closed.
final class IdleTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = InboundLine
    typealias InboundOut = InboundLine

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        context.fireChannelRead(wrapInboundOut(.idle))
        context.fireChannelReadComplete()
    }
}
