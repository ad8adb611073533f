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

/// A real server on 127.0.0.1, port 0, with a real SQLite file in a temp folder.
final class RunningServer: Sendable {
    let server: ChatServer
    let database: SupportBotDatabase
    let folder: URL
    let task: Task<Void, any Error>

    var port: Int { server.port }
    var engine: LiveEngine { server.services.engine }

    static func start(engine: SupportEngine? = nil, configure: (inout ServerConfiguration) -> Void = { _ in })
        async throws -> RunningServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("supportbot-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try SupportBotDatabase.open(path: folder.appendingPathComponent("test.sqlite").path)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let services = ChatServices(engine: LiveEngine(try engine ?? FixtureKnowledge.engine()), database: database,
                                    configuration: configuration, logger: logger)
        let server = try await ChatServer.bind(services: services)
        let task = Task { try await server.run() }
        return RunningServer(server: server, database: database, folder: folder, task: task)
    }

    private init(server: ChatServer, database: SupportBotDatabase, folder: URL, task: Task<Void, any Error>) {
        self.server = server
        self.database = database
        self.folder = folder
        self.task = task
    }

    func stop() async {
        server.stopAccepting()
        _ = try? await task.value
        try? database.close()
        try? FileManager.default.removeItem(at: folder)
    }

    func connect() async throws -> LineClient { try await LineClient.connect(port: port) }
}

struct TimedOut: Error {}

/// Lines received by a test client, waiting to be read.
actor LineInbox {
    private var lines: [InboundLine] = []
    private var closed = false
    private var waiter: CheckedContinuation<InboundLine?, Never>?

    func push(_ line: InboundLine?) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: line)
            if line == nil { closed = true }
            return
        }
        if let line { lines.append(line) } else { closed = true }
    }

    func next() async -> InboundLine? {
        if !lines.isEmpty { return lines.removeFirst() }
        if closed { return nil }
        return await withCheckedContinuation { waiter = $0 }
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
        let inbox = self.inbox
        let line: InboundLine? = try await withThrowingTaskGroup(of: InboundLine?.self) { group in
            group.addTask { await inbox.next() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        guard case .line(let bytes)? = line else { return nil }
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return try #require(object, "not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
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
