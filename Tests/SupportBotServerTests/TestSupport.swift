import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
@testable import SupportBotCore
@testable import SupportBotServer
import SupportBotStore

/// A small knowledge base with known overlaps, so every decision can be provoked on purpose.
enum FixtureKnowledge {
    static let files: [String: String] = [
        "knowledge/_settings.yml": """
            shop_name: Test Shop
            email: help@test.example
            """,
        "intents/_synonyms.yml": """
            parcel: [package]
            """,
        "intents/shop.yml": """
            - id: orders.track
              title: Track my order
              answer: orders/track
              suggest: [orders.late]
              examples:
                - where is my order
                - track my order
                - where is my parcel
                - has my order shipped
                - tracking number for my order
            - id: orders.late
              title: My order is late
              answer: orders/late
              examples:
                - my order is late
                - my parcel has not arrived
                - it still has not come
                - delivery is taking too long
            - id: returns.start
              title: Start a return
              answer: returns/start
              examples:
                - i want to return an item
                - how do i send something back
                - return my boots
                - start a return
            - id: returns.how_long
              title: How long a return takes
              after: [returns.start]
              answer: returns/timing
              examples:
                - how long does that take
                - when will it be done
            - id: gift.card.buy
              title: Buy a gift card
              reply: You can buy a gift card on our gift page.
              examples:
                - buy a gift card
                - buying gift cards
                - gift card to buy
            - id: gift.card.use
              title: Use a gift card
              reply: Type the gift card code at checkout.
              examples:
                - use a gift card
                - using gift cards
                - gift card to use
            - id: smalltalk.hello
              title: Say hello
              reply: Hi! How can I help?
              examples:
                - hello
                - hi there
                - good morning
            """,
        "knowledge/orders/track.md": """
            ---
            title: Track your order
            ---
            Open the link in your e-mail to see where your parcel is.
            """,
        "knowledge/orders/late.md": """
            ---
            title: Late orders
            ---
            Sorry it is late. Most parcels come within two more days.
            """,
        "knowledge/returns/start.md": """
            ---
            title: Start a return
            ---
            Go to My orders and tap Return. Print the label and post the parcel.
            """,
        "knowledge/returns/timing.md": """
            ---
            title: Return timing
            ---
            A return takes about two weeks from the day you post it.
            """,
    ]

    static func engine(version: Int = 1) throws -> SupportEngine {
        SupportEngine(knowledgeBase: try KnowledgeLoader.load(files: files), version: version)
    }
}

/// A real server on 127.0.0.1, port 0, with a real SQLite file in a temp folder. With `handoff`, the agent
/// listener runs too (also on port 0).
final class RunningServer: Sendable {
    let server: ChatServer
    let agentServer: AgentServer?
    let webServer: WebServer?
    let webTask: Task<Void, any Error>?
    let database: SupportBotDatabase
    let folder: URL
    let task: Task<Void, any Error>
    let agentTask: Task<Void, any Error>?
    let keepFolder: Bool
    /// The server's clock: a `ManualClock` moves only when the test moves it.
    let clock: any ServerClock

    var port: Int { server.port }
    var agentPort: Int { agentServer?.port ?? 0 }
    var webPort: Int { webServer?.port ?? 0 }
    var engine: LiveEngine { server.services.engine }
    var databasePath: String { folder.appendingPathComponent("test.sqlite").path }

    /// - Parameters:
    ///   - folder: reuse this folder's database (a restart); a new temp folder otherwise.
    ///   - web: also run the web listener (pages and WebSockets), on port 0.
    ///   - clock: the time for records and handoff deadlines.
    static func start(engine: SupportEngine? = nil, handoff: HandoffConfiguration? = nil, folder reused: URL? = nil,
                      web: Bool = false, clock: any ServerClock = SystemClock(),
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        let folder = reused
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("supportbot-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try SupportBotDatabase.open(path: folder.appendingPathComponent("test.sqlite").path)
        var configuration = SupportBotApplication.Configuration()
        configuration.server.port = 0
        configuration.server.agentPort = 0
        configuration.server.httpPort = 0
        configure(&configuration.server)
        configuration.handoff = handoff
        configuration.web = web
        configuration.knowledge = nil
        configuration.clock = clock
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let live = LiveEngine(try engine ?? FixtureKnowledge.engine())
        let app = try await SupportBotApplication.start(configuration, database: database, engine: live, logger: logger)
        let (server, agentServer, webServer) = (app.chat, app.agents, app.web)
        let task = Task { try await server.run() }
        let agentTask = agentServer.map { agents in Task { try await agents.run() } }
        let webTask = webServer.map { web in Task { try await web.run() } }
        return RunningServer(server: server, agentServer: agentServer, webServer: webServer, database: database,
                             folder: folder, task: task, agentTask: agentTask, webTask: webTask,
                             keepFolder: reused != nil, clock: clock)
    }

    private init(server: ChatServer, agentServer: AgentServer?, webServer: WebServer?, database: SupportBotDatabase,
                 folder: URL, task: Task<Void, any Error>, agentTask: Task<Void, any Error>?,
                 webTask: Task<Void, any Error>?, keepFolder: Bool, clock: any ServerClock) {
        self.server = server
        self.agentServer = agentServer
        self.webServer = webServer
        self.webTask = webTask
        self.database = database
        self.folder = folder
        self.task = task
        self.agentTask = agentTask
        self.keepFolder = keepFolder
        self.clock = clock
    }

    /// Stops both listeners and closes the database; with `removeFiles` false the folder stays for a restart.
    func stop(removeFiles: Bool = true) async {
        webServer?.stopAccepting()
        server.stopAccepting()
        agentServer?.stopAccepting()
        _ = try? await task.value
        _ = try? await agentTask?.value
        _ = try? await webTask?.value
        try? database.close()
        if removeFiles { try? FileManager.default.removeItem(at: folder) }
    }

    func connect() async throws -> LineClient { try await LineClient.connect(port: port) }

    /// An agent connection, logged in with a new agent's token.
    func agent(_ name: String, skills: [String] = []) async throws -> LineClient {
        let token = AgentToken.generate()
        _ = try await database.addAgent(name: name, skills: skills, tokenHash: AgentToken.hash(token), at: Date())
        return try await login(token: token)
    }

    /// An agent connection that has sent its login; what comes back is left for the test to read.
    func sendLogin(token: String) async throws -> LineClient {
        let client = try await LineClient.connect(port: agentPort)
        _ = try await client.next(type: "hello")
        try await client.send(json: ["type": "login", "token": token])
        return client
    }

    func login(token: String) async throws -> LineClient {
        let client = try await sendLogin(token: token)
        _ = try await client.next(type: "welcome")
        _ = try await client.next(type: "queue")
        return client
    }
}

struct TimedOut: Error {}
struct WebSocketRefused: Error {}

/// The test client's side of a WebSocket, written out by hand so the frame right after the `101` can't be lost:
/// first the handshake answer (reported as `.idle` when it is `101`, an error otherwise), then server frames
/// (unmasked): text as lines; a close frame ends the connection.
struct WebSocketClientDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundLine
    struct NotUpgraded: Error {}
    private var upgraded = false

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if !upgraded {
            let view = buffer.readableBytesView
            guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else { return .needMoreData }
            let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
            buffer.moveReaderIndex(to: end.upperBound)
            guard head.hasPrefix("HTTP/1.1 101") else { throw NotUpgraded() }
            upgraded = true
            context.fireChannelRead(wrapInboundOut(.idle))
            return .continue
        }
        guard buffer.readableBytes >= 2, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return .needMoreData }
        var header = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let value = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return .needMoreData }
            length = Int(value)
            header = 4
        } else if length == 127 {
            guard let value = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return .needMoreData }
            length = Int(value)
            header = 10
        }
        guard buffer.readableBytes >= header + length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: header)
        let payload = buffer.readBytes(length: length) ?? []
        switch first & 0x0F {
        case 0x1, 0x2: context.fireChannelRead(wrapInboundOut(.line(payload)))
        case 0x8: context.close(promise: nil)
        default: break
        }
        return .continue
    }
}

/// The first write (the handshake) goes out as it is; after that, lines go out as masked text frames (clients must
/// mask, RFC 6455 §5.3), a trailing newline dropped.
final class WebSocketClientEncoder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var handshakeSent = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard handshakeSent else {
            handshakeSent = true
            context.write(data, promise: promise)
            return
        }
        var payload = Array(unwrapOutboundIn(data).readableBytesView)
        if payload.last == UInt8(ascii: "\n") { payload.removeLast() }
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        context.write(wrapOutboundOut(ByteBuffer(bytes: frame)), promise: promise)
    }
}

/// A WebSocket spoken byte by byte, for the frame rules: a handshake, then frames exactly as given, then everything
/// the server sends until it closes (or `timeout`), split into frames.
enum RawWebSocket {
    struct Frame {
        var opcode: UInt8
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
        /// The status code of a close frame.
        var closeCode: Int? { opcode == 0x8 && payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil }
    }

    /// One frame as a client would send it (masked unless `masked` is false).
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true,
                      rsv1: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            bytes.append(maskBit | UInt8(payload.count))
        } else {
            bytes += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        guard masked else { return bytes + payload }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return bytes + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    static func text(_ text: String, fin: Bool = true) -> [UInt8] { frame(0x1, Array(text.utf8), fin: fin) }
    static let close = frame(0x8, [0x03, 0xE8])

    /// - Parameter closeAfter: once the server has sent these bytes (for example an answer's text), send a close
    ///   frame. It waits for them, however slow the machine, rather than for a fixed time.
    static func exchange(port: Int, path: String = "/chat", _ frames: [[UInt8]], closeAfter: String? = nil,
                         timeout: Duration = .seconds(5)) async throws -> [Frame] {
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let closer = Task {
            try? await Task.sleep(for: timeout)
            try? await channel.channel.close()
        }
        defer { closer.cancel() }
        var received: [UInt8] = []
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            for frame in frames { try await outbound.write(ByteBuffer(bytes: frame)) }
            var closing = closeAfter.map { Array($0.utf8) }
            do {
                for try await buffer in inbound {
                    received += buffer.readableBytesView
                    if let marker = closing, received.firstRange(of: marker) != nil {
                        closing = nil
                        try await outbound.write(ByteBuffer(bytes: close))
                    }
                }
            } catch {}
        }
        guard let end = received.firstRange(of: Array("\r\n\r\n".utf8)) else { return [] }
        var rest = received[end.upperBound...]
        var parsed: [Frame] = []
        while rest.count >= 2 {
            let first = rest[rest.startIndex], second = rest[rest.startIndex + 1]
            var length = Int(second & 0x7F), header = 2
            if length == 126 {
                guard rest.count >= 4 else { break }
                length = Int(rest[rest.startIndex + 2]) << 8 | Int(rest[rest.startIndex + 3])
                header = 4
            }
            guard rest.count >= header + length else { break }
            let start = rest.startIndex + header
            parsed.append(Frame(opcode: first & 0x0F, payload: Array(rest[start..<start + length])))
            rest = rest[(start + length)...]
        }
        return parsed
    }
}

/// One plain HTTP exchange over a real socket: the raw request goes out, everything until the server closes
/// comes back, split into status code, headers (lower-cased names) and body.
struct HTTPExchange {
    var status: Int
    var headers: [String: String]
    var body: String

    static func send(port: Int, _ request: String) async throws -> HTTPExchange {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var received: [UInt8] = []
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            for try await buffer in inbound { received += buffer.readableBytesView }
        }
        let text = String(decoding: received, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPExchange(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    static func get(port: Int, _ path: String, headers extra: [String] = [], method: String = "GET") async throws
        -> HTTPExchange {
        let request = (["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)"] + extra).joined(separator: "\r\n")
            + "\r\n\r\n"
        return try await send(port: port, request)
    }
}

/// Lines received by a test client, waiting to be read. A wait that times out consumes nothing.
actor LineInbox {
    enum Outcome {
        case line(InboundLine)
        case closed
        case timedOut
    }

    private var lines: [InboundLine] = []
    private var closed = false
    private var waiter: (id: UUID, continuation: CheckedContinuation<Outcome, Never>)?

    func push(_ line: InboundLine?) {
        if line == nil { closed = true }
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: line.map(Outcome.line) ?? .closed)
            return
        }
        if let line { lines.append(line) }
    }

    func next(timeout: Duration) async -> Outcome {
        if !lines.isEmpty { return .line(lines.removeFirst()) }
        if closed { return .closed }
        let id = UUID()
        return await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: UUID) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: .timedOut)
    }
}

/// A test client speaking JSON Lines over a real TCP socket.
final class LineClient: Sendable {
    private let channel: NIOAsyncChannel<InboundLine, ByteBuffer>
    fileprivate let inbox = LineInbox()
    private let reader: Task<Void, Never>

    /// A client on the web listener's WebSocket at `path` (`/chat` or `/agent`); each line is one text frame.
    /// Throws `WebSocketRefused` when the server does not upgrade.
    static func connectWebSocket(port: Int, path: String = "/chat", origin: String? = nil,
                                 host: String? = nil) async throws -> LineClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketClientDecoder()))
                    try channel.pipeline.syncOperations.addHandler(WebSocketClientEncoder())
                    return try NIOAsyncChannel<InboundLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let origin { request += "Origin: \(origin)\r\n" }
        try await channel.channel.writeAndFlush(ByteBuffer(string: request + "\r\n")).get()
        let client = LineClient(channel)
        // The decoder reports the 101 answer as `.idle`, and closes on anything else.
        guard case .line(.idle) = await client.inbox.next(timeout: .seconds(10)) else {
            await client.close()
            throw WebSocketRefused()
        }
        return client
    }

    /// - Parameter from: the local address to connect from (another loopback address, such as 127.0.0.2, plays
    ///   another client).
    static func connect(port: Int, from: String? = nil) async throws -> LineClient {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let from { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: from, port: 0)) }
        let channel = try await bootstrap
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maximumLength: 1 << 20)))
                    return try NIOAsyncChannel<InboundLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return LineClient(channel)
    }

    private init(_ channel: NIOAsyncChannel<InboundLine, ByteBuffer>) {
        self.channel = channel
        let inbox = self.inbox
        let inbound = channel.inbound
        reader = Task {
            do {
                for try await line in inbound { await inbox.push(line) }
            } catch {}
            await inbox.push(nil)
        }
    }

    func send(_ line: String) async throws { try await sendRaw(Array((line + "\n").utf8)) }

    func send(json object: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: object)
        try await sendRaw(Array(data) + [UInt8(ascii: "\n")])
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next line from the server as a JSON object; nil when the server closed the connection.
    func next(timeout: Duration = .seconds(10)) async throws -> [String: Any]? {
        let line: InboundLine?
        switch await inbox.next(timeout: timeout) {
        case .line(let received): line = received
        case .closed: line = nil
        case .timedOut: throw TimedOut()
        }
        guard case .line(let bytes)? = line else { return nil }
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return try #require(object, "not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
    }

    /// The next line of this type, skipping others (pushes arrive between replies); fails on timeout or close.
    func next(type: String, timeout: Duration = .seconds(10)) async throws -> [String: Any] {
        while true {
            let line = try #require(try await next(timeout: timeout), "connection closed while waiting for \(type)")
            if line["type"] as? String == type { return line }
        }
    }

    /// Lines that arrive within `window`, for checking that something was *not* sent.
    func drain(for window: Duration = .milliseconds(300)) async -> [[String: Any]] {
        var lines: [[String: Any]] = []
        while let line = try? await next(timeout: window) { lines.append(line) }
        return lines
    }

    /// Sends a message and returns the server's reply line.
    func ask(_ text: String) async throws -> [String: Any] {
        try await send(json: ["type": "say", "text": text])
        return try #require(try await next())
    }

    func close() async {
        channel.outbound.finish()
        try? await channel.channel.close()
        reader.cancel()
    }

    deinit {
        channel.outbound.finish()
        channel.channel.close(promise: nil)
    }
}

/// A test waited far longer than the thing it waits for ever takes.
struct SafetyNetReached: Error, CustomStringConvertible {
    var seconds: Int
    var description: String { "gave up after \(seconds) s: what the test waited for never happened" }
}

/// Runs `operation`, but gives up after `seconds` (a safety net, far above the normal time, never a wait).
func withSafetyNet<T: Sendable>(seconds: Int = 60, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw SafetyNetReached(seconds: seconds) }
        return value
    }
}

/// Returns once `condition` holds, looking again every few milliseconds; throws after `seconds` (a safety net).
func waitUntil(seconds: Int = 60, _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw SafetyNetReached(seconds: seconds) }
        try await Task.sleep(for: .milliseconds(5))
    }
}
