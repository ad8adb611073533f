import Logging
import NIOCore
import SupportBotCore
import NIOPosix
import ServiceLifecycle
import Synchronization

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
    var deadlineSeconds: Double
    /// Counts the deadline (a `ManualClock` in tests: the deadline passes when the test moves time).
    var clock: any ServerClock
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
                    let due = rule.clock.now().addingTimeInterval(rule.deadlineSeconds)
                    return Task {
                        guard (try? await rule.clock.sleep(until: due)) != nil, !control.isSignedIn else { return }
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
