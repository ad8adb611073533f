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
    let database: SupportBotDatabase
    let folder: URL
    let task: Task<Void, any Error>
    let agentTask: Task<Void, any Error>?
    let keepFolder: Bool

    var port: Int { server.port }
    var agentPort: Int { agentServer?.port ?? 0 }
    var engine: LiveEngine { server.services.engine }
    var databasePath: String { folder.appendingPathComponent("test.sqlite").path }

    /// - Parameters:
    ///   - folder: reuse this folder's database (a restart); a new temp folder otherwise.
    static func start(engine: SupportEngine? = nil, handoff: HandoffConfiguration? = nil, folder reused: URL? = nil,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        let folder = reused
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("supportbot-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try SupportBotDatabase.open(path: folder.appendingPathComponent("test.sqlite").path)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.agentPort = 0
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let live = LiveEngine(try engine ?? FixtureKnowledge.engine())
        let desk = handoff.map { HandoffDesk(database: database, engine: live, configuration: $0, logger: logger) }
        let services = ChatServices(engine: live, database: database, configuration: configuration, logger: logger,
                                    desk: desk)
        let server = try await ChatServer.bind(services: services)
        var agentServer: AgentServer?
        if let desk {
            agentServer = try await AgentServer.bind(services: services, desk: desk)
            try await desk.start()
        }
        let task = Task { try await server.run() }
        let agentTask = agentServer.map { agents in Task { try await agents.run() } }
        return RunningServer(server: server, agentServer: agentServer, database: database, folder: folder,
                             task: task, agentTask: agentTask, keepFolder: reused != nil)
    }

    private init(server: ChatServer, agentServer: AgentServer?, database: SupportBotDatabase, folder: URL,
                 task: Task<Void, any Error>, agentTask: Task<Void, any Error>?, keepFolder: Bool) {
        self.server = server
        self.agentServer = agentServer
        self.database = database
        self.folder = folder
        self.task = task
        self.agentTask = agentTask
        self.keepFolder = keepFolder
    }

    /// Stops both listeners and closes the database; with `removeFiles` false the folder stays for a restart.
    func stop(removeFiles: Bool = true) async {
        server.stopAccepting()
        agentServer?.stopAccepting()
        _ = try? await task.value
        _ = try? await agentTask?.value
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
    private let inbox = LineInbox()
    private let reader: Task<Void, Never>

    static func connect(port: Int) async throws -> LineClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
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
