import Logging
import NIOCore
import SupportBotCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Everything written to one connection: replies, and pushes from elsewhere (an agent's message, a queue update).
/// Each line is handed straight to the channel, which writes lines whole and in the order they were sent, so no
/// task per connection sits waiting to relay them.
public final class Outbox: Sendable {
    private let channel: any Channel
    private struct State {
        /// Lines handed to the channel and not yet written.
        var pending = 0
        var open = true
        var closeWhenWritten = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    private let hold = Mutex(false)

    init(channel: any Channel) { self.channel = channel }

    /// False once the connection is finishing (closed, or told to close).
    var isOpen: Bool { state.withLock { $0.open } }

    /// The client's IP address (without the port), or "unknown".
    var clientAddress: String { channel.remoteAddress?.ipAddress ?? "unknown" }

    /// Set while the client waits for or talks to a person: quiet is then expected, not a reason to close.
    var holdsOpen: Bool {
        get { hold.withLock { $0 } }
        set { hold.withLock { $0 = newValue } }
    }

    /// Lines sent but not yet written. A client that stops reading while sending on would make this grow without
    /// end; past `maxPending` the connection is closed at once (what is still queued would never be read).
    static let maxPending = 1_000

    /// Writes one encoded line; ignored once the connection is finishing.
    func send(_ line: [UInt8]) {
        let accepted: Bool? = state.withLock { state in
            guard state.open else { return nil }
            guard state.pending < Self.maxPending else { return false }
            state.pending += 1
            return true
        }
        switch accepted {
        case nil: return
        case false?:
            finish()
            channel.close(promise: nil)
            // On a WebSocket the first close only queues a close frame, behind the lines this client is not reading;
            // the second goes through and closes the socket.
            channel.close(promise: nil)
        case true?: channel.writeAndFlush(ByteBuffer(bytes: line)).whenComplete { _ in self.written() }
        }
    }

    private func written() {
        let (waiters, close) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Bool) in
            state.pending -= 1
            guard state.pending == 0, !state.open else { return ([], false) }
            defer { state.drainWaiters = [] }
            return (state.drainWaiters, state.closeWhenWritten)
        }
        for waiter in waiters { waiter.resume() }
        if close { channel.close(promise: nil) }
    }

    /// No more lines are taken; those sent already are still written.
    func finish() { state.withLock { $0.open = false } }

    /// Writes what was sent, then closes the connection (for example when the same agent signs in elsewhere).
    func finishAndClose() {
        let closeNow = state.withLock { state -> Bool in
            state.open = false
            state.closeWhenWritten = true
            return state.pending == 0
        }
        if closeNow { channel.close(promise: nil) }
    }

    /// Returns once every line sent has been written (or has failed because the connection is gone). Call after
    /// `finish()`.
    func drained() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard state.pending > 0 else { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// What a listener does with one connection: the lines to greet it with, what to answer each line with,
/// and what to do when it goes away (however that happens).
protocol LineConnectionHandler: AnyObject {
    /// False while the connection must stay open though the client is quiet (a customer waiting for a person).
    var closesWhenIdle: Bool { get }
    /// On a listener with a `LoginRule`: whether the client has logged in (read after each line it sent).
    var isSignedIn: Bool { get }
    func greeting() async -> [[UInt8]]
    func handle(_ bytes: [UInt8]) async -> (lines: [[UInt8]], close: Bool)
    func closed() async
}

extension LineConnectionHandler {
    var isSignedIn: Bool { true }
}

/// Limits shared by the customer and agent listeners.
struct ListenerLimits: Sendable {
    var host: String
    var port: Int
    var maxLineBytes: Int
    var maxConnections: Int
    var idleTimeoutSeconds: Int64
    /// Most connections at once from one client address (0: no limit).
    var maxPerAddress: Int = 0
    /// For a listener whose clients must log in (agents); nil for customers.
    var login: LoginRule? = nil
}

/// How a listener treats connections that have not logged in: each has `deadline` from when it is served, after which
/// it hears `timeoutLine` and is closed (a fixed deadline: sending bytes now and then does not extend it). And they
/// can't fill the listener: when it is full, a new connection takes the place of the oldest that has not logged in.
struct LoginRule: Sendable {
    var deadline: TimeAmount
    var timeoutLine: [UInt8]
    /// What a connection that has not logged in hears when it is closed to make room.
    var displacedLine: [UInt8]
}

/// The connections of one protocol (customers or agents), whatever carries them: TCP lines or WebSocket frames
/// both arrive here as `InboundLine`s and leave as encoded lines. Owns the connection limit, so a customer on a
/// WebSocket counts against the same `--max-connections` as one on TCP, and a graceful shutdown reaches both.
/// Each connection is one task reading lines; its outbox writes straight to the channel. An error in one connection
/// never touches another.
final class LineConnections: Sendable {
    let name: String
    let logger: Logger
    let limits: ListenerLimits
    private let makeHandler: @Sendable (Outbox) -> any LineConnectionHandler
    private struct Open {
        var connections: [ObjectIdentifier: ConnectionControl] = [:]
        var perAddress: [String: Int] = [:]

        mutating func add(_ control: ConnectionControl) {
            connections[ObjectIdentifier(control)] = control
            perAddress[control.address, default: 0] += 1
        }

        mutating func remove(_ key: ObjectIdentifier) {
            guard let control = connections.removeValue(forKey: key) else { return }
            perAddress[control.address, default: 1] -= 1
            if perAddress[control.address] == 0 { perAddress.removeValue(forKey: control.address) }
        }
    }

    private enum Admission {
        case admitted(displacing: ConnectionControl?)
        case full
        case tooManyFromAddress
    }

    private let open = Mutex(Open())
    private let stopping = Mutex(false)
    /// Numbers connections in the order they arrive (the oldest not logged in is the first to make room).
    private let arrivals = Mutex<UInt64>(0)

    var active: Int { open.withLock { $0.connections.count } }

    init(name: String, limits: ListenerLimits, logger: Logger,
         makeHandler: @escaping @Sendable (Outbox) -> any LineConnectionHandler) {
        self.name = name
        self.limits = limits
        self.logger = logger
        self.makeHandler = makeHandler
    }

    /// Asks every connection to finish what it is doing and close; connections that arrive later are closed at once.
    func stopAll() {
        stopping.withLock { $0 = true }
        for control in open.withLock({ Array($0.connections.values) }) { control.stop() }
    }

    func serve(_ connection: NIOAsyncChannel<InboundLine, ByteBuffer>) async {
        let arrival = arrivals.withLock { count -> UInt64 in
            count += 1
            return count
        }
        let control = ConnectionControl(channel: connection.channel, arrival: arrival)
        let key = ObjectIdentifier(control)
        let login = limits.login
        let admission = open.withLock { open -> Admission in
            if limits.maxPerAddress > 0, open.perAddress[control.address, default: 0] >= limits.maxPerAddress {
                return .tooManyFromAddress
            }
            if open.connections.count < limits.maxConnections {
                open.add(control)
                return .admitted(displacing: nil)
            }
            // Full: a connection that has not logged in makes room, the oldest first.
            guard login != nil, let oldest = open.connections.values.filter({ !$0.isSignedIn })
                .min(by: { $0.arrival < $1.arrival }) else { return .full }
            open.remove(ObjectIdentifier(oldest))
            open.add(control)
            return .admitted(displacing: oldest)
        }
        let admitted: Bool
        let displaced: ConnectionControl?
        switch admission {
        case .admitted(let oldest): (admitted, displaced) = (true, oldest)
        case .full, .tooManyFromAddress: (admitted, displaced) = (false, nil)
        }
        if let displaced, let login {
            logger.notice("Connection that had not logged in closed to make room",
                          metadata: ["remote": .string(displaced.channel.remoteAddress?.description ?? "unknown")])
            displaced.close(with: login.displacedLine)
        }
        defer { if admitted { open.withLock { $0.remove(key) } } }
        let remote = connection.channel.remoteAddress?.description ?? "unknown"
        do {
            try await connection.executeThenClose { inbound, outbound in
                guard admitted else {
                    let line: [UInt8]
                    if case .tooManyFromAddress = admission {
                        logger.notice("Connection refused: too many from one address", metadata: [
                            "remote": .string(remote), "limit": .stringConvertible(limits.maxPerAddress),
                        ])
                        line = ServerMessage.error(code: .tooManyConnections, message: BotMessages.tooManyChats)
                            .jsonLine()
                    } else {
                        logger.warning("Connection refused: server full", metadata: ["remote": .string(remote)])
                        line = ServerMessage.error(code: .serverFull, message: BotMessages.busy).jsonLine()
                    }
                    try await outbound.write(ByteBuffer(bytes: line))
                    return
                }
                if stopping.withLock({ $0 }) { control.stop() }
                let outbox = Outbox(channel: connection.channel)
                let handler = makeHandler(outbox)
                for line in await handler.greeting() { outbox.send(line) }
                let logger = self.logger
                let deadline = login.map { rule in
                    connection.channel.eventLoop.scheduleTask(in: rule.deadline) {
                        guard !control.isSignedIn else { return }
                        logger.notice("Connection did not log in in time; closing", metadata: ["remote": .string(remote)])
                        control.close(with: rule.timeoutLine)
                    }
                }
                defer { deadline?.cancel() }
                var readError: (any Error)?
                do {
                    for try await frame in inbound {
                        guard control.beginWork() else { break }
                        let result: (lines: [[UInt8]], close: Bool)
                        switch frame {
                        case .tooLong:
                            result = ([ServerMessage.error(code: .lineTooLong, message: BotMessages.tooLong).jsonLine()],
                                      true)
                            logger.notice("Line too long; closing", metadata: ["remote": .string(remote)])
                        case .line(let bytes):
                            result = await handler.handle(bytes)
                            if login != nil && handler.isSignedIn { control.markSignedIn() }
                        case .idle:
                            if handler.closesWhenIdle {
                                result = ([ServerMessage.error(code: .idleTimeout, message: BotMessages.quietTooLong)
                                    .jsonLine()], true)
                            } else {
                                result = ([], false)
                            }
                        }
                        if !result.lines.isEmpty { outbox.send(result.lines.reduce(into: []) { $0 += $1 }) }
                        let stopping = control.endWork()
                        if stopping && !result.close { outbox.send(ConnectionControl.shuttingDownLine) }
                        if result.close || stopping { break }
                    }
                } catch {
                    readError = error
                }
                // However the connection ended, the handler hears of it (a customer in the queue, an agent
                // mid-chat), and everything sent is written before the socket closes.
                outbox.finish()
                await handler.closed()
                await outbox.drained()
                if let readError { throw readError }
            }
        } catch {
            logger.notice("Connection error", metadata: [
                "remote": .string(remote), "error": .string(String(describing: error)),
            ])
        }
    }
}

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
