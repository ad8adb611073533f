import Logging
import NIOCore
import SupportBotCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A JSON Lines listener over TCP: bind first (so a taken port fails early with a clear message), then `run()` as
/// a service. A graceful shutdown stops accepting, lets every line in progress finish and be stored, tells idle
/// clients, and closes.
final class LineListener: Sendable {
    let connections: LineConnections
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<InboundLine, ByteBuffer>, Never>

    var localAddress: SocketAddress? { serverChannel.channel.localAddress }
    var port: Int { localAddress?.port ?? 0 }
    /// Whether the listening socket is still open (false once `stopAccepting()` has closed it).
    var isAccepting: Bool { serverChannel.channel.isActive }
    var activeConnections: Int { connections.active }

    private init(connections: LineConnections,
                 serverChannel: NIOAsyncChannel<NIOAsyncChannel<InboundLine, ByteBuffer>, Never>) {
        self.connections = connections
        self.serverChannel = serverChannel
    }

    static func bind(name: String, limits: ListenerLimits, logger: Logger,
                     group: MultiThreadedEventLoopGroup = .singleton,
                     makeHandler: @escaping @Sendable (Outbox) -> any LineConnectionHandler) async throws -> LineListener {
        let channel = try await ServerBootstrap.supportBot(group: group)
            .bind(host: limits.host, port: limits.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: limits.maxLineBytes)))
                    // After the decoder: only whole lines count as activity (a byte now and then does not keep a
                    // connection open).
                    try sync.addHandler(IdleStateHandler(readTimeout: .seconds(limits.idleTimeoutSeconds)))
                    try sync.addHandler(IdleTimeoutHandler())
                    // Closed when dropped unserved: a connection accepted while the listener shuts down may never
                    // reach `serve`, and NIO traps on an async channel that goes away unfinished.
                    return try NIOAsyncChannel<InboundLine, ByteBuffer>.closingWhenDropped(channel)
                }.closingOnFailure(channel)
            }
        let connections = LineConnections(name: name, limits: limits, logger: logger, makeHandler: makeHandler)
        return LineListener(connections: connections, serverChannel: channel)
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            // New connections are taken on the listening socket's event loop, and each runs on its own loop (see
            // `EventLoopTaskExecutor`): no hop to the shared thread pool and back for a line read and answered.
            try await withTaskExecutorPreference(EventLoopTaskExecutor(serverChannel.channel.eventLoop)) {
                try await withThrowingDiscardingTaskGroup { group in
                    try await serverChannel.executeThenClose { inbound in
                        for try await connection in inbound {
                            let executor = EventLoopTaskExecutor(connection.channel.eventLoop)
                            group.addTask(executorPreference: executor) { await self.connections.serve(connection) }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.stopAccepting()
        }
        connections.logger.info("\(connections.name) listener stopped")
    }

    /// Stops accepting and asks every connection to finish what it is doing and close.
    func stopAccepting() {
        serverChannel.channel.close(promise: nil)
        connections.stopAll()
    }
}

extension NIOAsyncChannel {
    /// An async channel that is closed (and its writer finished) if it is dropped without being used. NIO marks this
    /// form deprecated because it prefers explicit teardown, which `LineConnections.serve` does; this is the safety
    /// net for the one it cannot reach.
    static func closingWhenDropped(_ channel: any Channel) throws -> NIOAsyncChannel {
        try NIOAsyncChannel(synchronouslyWrapping: channel)
    }
}

extension ServerBootstrap {
    /// The socket options of every SupportBot listener (chat, agents, web).
    static func supportBot(group: MultiThreadedEventLoopGroup) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Finds half-open connections (a phone that lost signal) that would otherwise look online for ever.
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
    }
}

extension EventLoopFuture {
    /// A connection whose set-up failed is closed. (With an async server bootstrap NIO only drops the connection:
    /// its socket stayed open, in CLOSE-WAIT once the client left, until the process ran out of files.)
    func closingOnFailure(_ channel: any Channel) -> EventLoopFuture<Value> {
        whenFailure { _ in channel.close(promise: nil) }
        return self
    }
}
