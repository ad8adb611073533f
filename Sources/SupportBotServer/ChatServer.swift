import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import SupportBotCore

/// The customer chat listener: JSON Lines over TCP. Bind first (so a taken port fails early with a clear
/// message), then `run()` as a service; a graceful shutdown stops accepting, lets every reply in progress
/// finish and be stored, tells idle clients, and closes.
public final class ChatServer: Service, Sendable {
    public let services: ChatServices
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<InboundLine, ByteBuffer>, Never>
    private let connections = Mutex<[ObjectIdentifier: ConnectionControl]>([:])

    /// The address actually bound (useful with port 0).
    public var localAddress: SocketAddress? { serverChannel.channel.localAddress }
    public var port: Int { localAddress?.port ?? 0 }
    public var activeConnections: Int { connections.withLock { $0.count } }

    private init(services: ChatServices,
                 serverChannel: NIOAsyncChannel<NIOAsyncChannel<InboundLine, ByteBuffer>, Never>) {
        self.services = services
        self.serverChannel = serverChannel
    }

    public static func bind(services: ChatServices,
                            group: MultiThreadedEventLoopGroup = .singleton) async throws -> ChatServer {
        let configuration = services.configuration
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: .seconds(configuration.idleTimeoutSeconds)))
                    try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: configuration.maxLineBytes)))
                    try sync.addHandler(IdleTimeoutHandler())
                    return try NIOAsyncChannel<InboundLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return ChatServer(services: services, serverChannel: channel)
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            self.stopAccepting()
        }
        services.logger.info("Chat listener stopped")
    }

    /// Stops accepting and asks every connection to finish what it is doing and close.
    public func stopAccepting() {
        serverChannel.channel.close(promise: nil)
        for control in connections.withLock({ Array($0.values) }) { control.stop() }
    }

    private func serve(_ connection: NIOAsyncChannel<InboundLine, ByteBuffer>) async {
        let control = ConnectionControl(channel: connection.channel)
        let key = ObjectIdentifier(control)
        let admitted = connections.withLock { open -> Bool in
            guard open.count < services.configuration.maxConnections else { return false }
            open[key] = control
            return true
        }
        defer { if admitted { connections.withLock { _ = $0.removeValue(forKey: key) } } }
        let remote = connection.channel.remoteAddress?.description ?? "unknown"
        do {
            try await connection.executeThenClose { inbound, outbound in
                guard admitted else {
                    services.logger.warning("Connection refused: server full", metadata: ["remote": .string(remote)])
                    let line = ServerMessage.error(
                        code: .serverFull,
                        message: "Sorry, we are very busy right now. Please try again in a few minutes.").jsonLine()
                    try await outbound.write(ByteBuffer(bytes: line))
                    return
                }
                if !serverChannel.channel.isActive { control.stop() }
                let session = CustomerSession(services: services)
                try await outbound.write(ByteBuffer(bytes: session.welcome().jsonLine()))
                for try await frame in inbound {
                    guard control.beginWork() else { break }
                    let result: (messages: [ServerMessage], close: Bool)
                    switch frame {
                    case .tooLong:
                        result = ([.error(code: .lineTooLong,
                                          message: "That message is too long. Please send it in a few shorter parts.")], true)
                        services.logger.notice("Line too long; closing", metadata: ["remote": .string(remote)])
                    case .line(let bytes):
                        result = await session.handle(bytes)
                    }
                    var out = ByteBuffer()
                    for message in result.messages { out.writeBytes(message.jsonLine()) }
                    if out.readableBytes > 0 { try await outbound.write(out) }
                    let stopping = control.endWork()
                    if stopping && !result.close {
                        try await outbound.write(ByteBuffer(bytes: ConnectionControl.shuttingDownLine))
                    }
                    if result.close || stopping { break }
                }
            }
        } catch {
            services.logger.notice("Connection error", metadata: [
                "remote": .string(remote), "error": .string(String(describing: error)),
            ])
        }
    }
}

/// Lets a graceful shutdown close a connection between messages, never in the middle of one.
final class ConnectionControl: Sendable {
    private struct State {
        var busy = false
        var stopping = false
    }

    private let state = Mutex(State())
    let channel: any Channel

    init(channel: any Channel) { self.channel = channel }

    static let shuttingDownLine = ServerMessage.error(
        code: .shuttingDown,
        message: "We are restarting the chat. Please reconnect in a moment to carry on.").jsonLine()

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

    func stop() {
        let closeNow = state.withLock { state -> Bool in
            let wasStopping = state.stopping
            state.stopping = true
            return !state.busy && !wasStopping
        }
        guard closeNow else { return }
        channel.writeAndFlush(ByteBuffer(bytes: Self.shuttingDownLine)).whenComplete { _ in self.channel.close(promise: nil) }
    }
}

/// Closes a connection that has been silent for too long, after telling the client why.
final class IdleTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = InboundLine
    typealias InboundOut = InboundLine

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let line = ServerMessage.error(
            code: .idleTimeout,
            message: "This chat was quiet for a long time, so we closed it. Reconnect to carry on.").jsonLine()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: line))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}
