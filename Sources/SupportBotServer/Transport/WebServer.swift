import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ServiceLifecycle
import SupportBotCore
import Synchronization

/// The HTTP listener for browsers: the demo shop page, the chat widget's files, the agent console page, a health
/// check, and WebSockets at `/chat` and `/agent` that carry exactly the customer and agent protocols.
///
/// A WebSocket is handed to the same `LineConnections` as the TCP listener of its protocol, so limits, errors,
/// sessions and graceful shutdown are shared. Plain HTTP requests get one response each and the connection closes
/// (the pages are few and small; it keeps the WebSocket upgrade on a fresh connection every time).
public final class WebServer: Service, Sendable {
    enum Route: Sendable {
        case chat, agent
    }

    enum Accepted: Sendable {
        case webSocket(NIOAsyncChannel<InboundLine, ByteBuffer>, Route)
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPPart<HTTPResponseHead, ByteBuffer>>)
    }

    private let serverChannel: NIOAsyncChannel<EventLoopFuture<Accepted>, Never>
    private let site: WebSite
    private let chat: LineConnections
    private let agents: LineConnections?
    private let logger: Logger

    public var localAddress: SocketAddress? { serverChannel.channel.localAddress }
    public var port: Int { localAddress?.port ?? 0 }

    private init(serverChannel: NIOAsyncChannel<EventLoopFuture<Accepted>, Never>, site: WebSite,
                 chat: LineConnections, agents: LineConnections?, logger: Logger) {
        self.serverChannel = serverChannel
        self.site = site
        self.chat = chat
        self.agents = agents
        self.logger = logger
    }

    /// Binds `configuration.httpPort` on `configuration.host`. Without an agent server, `/agent` is not offered.
    public static func bind(chat chatServer: ChatServer, agents agentServer: AgentServer?,
                            group: MultiThreadedEventLoopGroup = .singleton) async throws -> WebServer {
        let services = chatServer.services
        let configuration = services.configuration
        let chat = chatServer.connections
        let agents = agentServer?.connections
        let originPolicy = OriginPolicy(allowed: configuration.allowedOrigins, serverHost: configuration.host)
        let plainConnections = PlainConnectionCount(limit: configuration.maxPlainWebConnections,
                                                    perAddress: configuration.maxConnectionsPerAddress)
        let logger = services.logger
        let site = WebSite(engine: services.engine, database: services.database, chat: chat,
                           agentConsole: agents != nil, originPolicy: originPolicy)

        let channel: NIOAsyncChannel<EventLoopFuture<Accepted>, Never> = try await ServerBootstrap.supportBot(group: group)
            .bind(host: configuration.host, port: configuration.httpPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // Until a WebSocket is set up, the connection is on a deadline, and counted.
                    let address = channel.remoteAddress?.ipAddress ?? "unknown"
                    guard plainConnections.enter(address) else { throw TooManyPlainConnections() }
                    // The request and the answer, or the handshake, must be done by then: a fixed deadline from the
                    // accept, so sending a byte now and then does not keep a connection open.
                    let deadline = TimeAmount.seconds(configuration.webRequestDeadlineSeconds)
                    do {
                        try sync.addHandler(RequestDeadlineHandler(deadline: deadline, count: plainConnections,
                                                                   address: address),
                                            name: "request-deadline")
                    } catch {
                        plainConnections.leave(address)
                        throw error
                    }
                    let upgrader = NIOTypedWebSocketServerUpgrader<Accepted>(
                        // Room for a message a bit over the limit, so the client gets `line_too_long`, not a
                        // bare protocol error.
                        maxFrameSize: max(configuration.maxLineBytes * 4, 1 << 14),
                        shouldUpgrade: { channel, head in
                            let route = Self.route(head)
                            let allowed = route.map { $0 == .chat || agents != nil } ?? false
                                && originPolicy.allows(head, route: route ?? .chat)
                            if !allowed {
                                // NIO drops the request head of an upgrade it does not make, so the refusal is
                                // answered here, while the head is at hand; failing the upgrade then ends the
                                // connection without a second answer.
                                let response = site.respond(to: head)
                                if response.status == .forbidden {
                                    logger.notice("WebSocket refused: origin not allowed", metadata: [
                                        "origin": .string(head.headers.first(name: "origin") ?? ""),
                                        "path": .string(head.uri),
                                    ])
                                }
                                channel.write(HTTPServerResponsePart.head(response.head(version: head.version)),
                                              promise: nil)
                                channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: response.body))),
                                              promise: nil)
                                channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
                                    channel.close(promise: nil)
                                }
                                return channel.eventLoop.makeFailedFuture(UpgradeRefused())
                            }
                            return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                        },
                        upgradePipelineHandler: { channel, head in
                            channel.eventLoop.makeCompletedFuture {
                                let route = Self.route(head) ?? .chat
                                let limits = route == .chat ? chat.limits : agents?.limits ?? chat.limits
                                let sync = channel.pipeline.syncOperations
                                _ = sync.removeHandler(name: "request-deadline")
                                try sync.addHandler(WebSocketLineAdapter(maximumLength: limits.maxLineBytes))
                                // After the adapter: only whole messages count as activity (not pings or fragments).
                                try sync.addHandler(IdleStateHandler(readTimeout: .seconds(limits.idleTimeoutSeconds)))
                                try sync.addHandler(IdleTimeoutHandler())
                                return Accepted.webSocket(
                                    try NIOAsyncChannel<InboundLine, ByteBuffer>(wrappingChannelSynchronously: channel),
                                    route)
                            }
                        })
                    let upgrade = NIOTypedHTTPServerUpgradeConfiguration<Accepted>(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(HTTPResponsePartHandler())
                                return Accepted.http(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                            }
                        })
                    return try sync.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: upgrade))
                }.closingOnFailure(channel)
            }
        return WebServer(serverChannel: channel, site: site, chat: chat, agents: agents, logger: logger)
    }

    static func route(_ head: HTTPRequestHead) -> Route? {
        switch WebSite.path(of: head.uri) {
        case "/chat": .chat
        case "/agent": .agent
        default: nil
        }
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await accepted in inbound {
                        group.addTask { await self.serve(accepted) }
                    }
                }
            }
        } onGracefulShutdown: {
            // The open WebSockets are told and closed now: this service's run only ends once they have. (A service
            // group shuts services down one after the other, so waiting for the chat service to do it would hang.)
            self.stopAccepting()
            self.chat.stopAll()
            self.agents?.stopAll()
        }
        logger.info("Web listener stopped")
    }

    public func stopAccepting() { serverChannel.channel.close(promise: nil) }

    private func serve(_ accepted: EventLoopFuture<Accepted>) async {
        let connection: Accepted
        do {
            connection = try await accepted.get()
        } catch {
            // A client that went away or sent something that is not HTTP; NIO has answered or closed already.
            logger.debug("Web connection ended before a request", metadata: ["error": .string("\(error)")])
            return
        }
        switch connection {
        case .webSocket(let channel, .chat):
            // On the connection's own event loop, as over TCP.
            await withTaskExecutorPreference(EventLoopTaskExecutor(channel.channel.eventLoop)) {
                await chat.serve(channel)
            }
        case .webSocket(let channel, .agent):
            guard let agents else { try? await channel.channel.close(); return }
            await withTaskExecutorPreference(EventLoopTaskExecutor(channel.channel.eventLoop)) {
                await agents.serve(channel)
            }
        case .http(let channel):
            await serveHTTP(channel)
        }
    }

    /// One request, one response, then close. Bodies are never needed, so the answer goes out after the head.
    private func serveHTTP(_ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPPart<HTTPResponseHead, ByteBuffer>>) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                for try await part in inbound {
                    // A request that asked for another upgrade (not a WebSocket) arrives without its head: NIO
                    // drops it. It gets a plain refusal.
                    let response: WebResponse
                    let version: HTTPVersion
                    let withBody: Bool
                    switch part {
                    case .head(let head):
                        response = site.respond(to: head)
                        version = head.version
                        withBody = head.method != .HEAD
                    case .body, .end:
                        response = .text(.badRequest, "This server can only upgrade to a WebSocket, at /chat or /agent.")
                        version = .http1_1
                        withBody = true
                    }
                    try await outbound.write(.head(response.head(version: version)))
                    if withBody && !response.body.isEmpty {
                        try await outbound.write(.body(ByteBuffer(bytes: response.body)))
                    }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        } catch {
            logger.debug("Web request failed", metadata: ["error": .string("\(error)")])
        }
    }
}

/// Which pages may open the WebSockets. Browsers always send `Origin` with a WebSocket request; a page on another
/// site could otherwise open chats in the visitor's name. Allowed:
/// - the server's own pages: the origin is the address the browser used (`Host`), and that address is an IP address,
///   `localhost` or the `--host` the server listens on. A domain name must be listed: a hostile site can point its
///   own name at 127.0.0.1 (DNS rebinding), and its pages would then look like the server's own;
/// - the origins given with `serve --allowed-origin`, or any when the list holds `*` (for `/chat` only: the agent
///   console is always same-site or listed).
/// Clients that are not browsers (no `Origin`) are let in, as on the TCP port.
struct OriginPolicy: Sendable {
    let allowed: Set<String>
    let anyOrigin: Bool
    let serverHost: String

    init(allowed: [String], serverHost: String = "127.0.0.1") {
        let normalised = allowed.map(Self.normalise)
        self.allowed = Set(normalised)
        self.anyOrigin = normalised.contains("*")
        self.serverHost = Self.normalise(serverHost)
    }

    static func normalise(_ origin: String) -> String {
        var text = origin.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    func allows(_ head: HTTPRequestHead, route: WebServer.Route) -> Bool {
        guard let origin = head.headers.first(name: "origin").map(Self.normalise) else { return true }
        if allowed.contains(origin) || (anyOrigin && route == .chat) { return true }
        guard let host = head.headers.first(name: "host").map(Self.normalise), !host.isEmpty,
              origin == "http://" + host || origin == "https://" + host else { return false }
        return isOwnName(Self.hostName(host))
    }

    /// "127.0.0.1:7780" → "127.0.0.1", "[::1]:7780" → "::1", "shop.example" → "shop.example".
    static func hostName(_ host: String) -> String {
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<end])
        }
        return host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? host
    }

    private func isOwnName(_ name: String) -> Bool {
        if name == "localhost" || name == serverHost { return true }
        if name.contains(":") { return true }  // an IPv6 address
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}

struct TooManyPlainConnections: Error {}
/// A WebSocket request that was answered with a refusal (wrong origin or address).
struct UpgradeRefused: Error {}

/// Counts connections that are not WebSockets (yet), in all and per client address.
final class PlainConnectionCount: Sendable {
    private struct Counts {
        var all = 0
        var perAddress: [String: Int] = [:]
    }
    private let counts = Mutex(Counts())
    let limit: Int
    /// 0: no limit per address.
    let perAddress: Int

    init(limit: Int, perAddress: Int = 0) {
        self.limit = limit
        self.perAddress = perAddress
    }

    func enter(_ address: String) -> Bool {
        counts.withLock { counts in
            guard counts.all < limit else { return false }
            if perAddress > 0, counts.perAddress[address, default: 0] >= perAddress { return false }
            counts.all += 1
            counts.perAddress[address, default: 0] += 1
            return true
        }
    }

    func leave(_ address: String) {
        counts.withLock { counts in
            counts.all -= 1
            counts.perAddress[address, default: 1] -= 1
            if counts.perAddress[address] == 0 { counts.perAddress.removeValue(forKey: address) }
        }
    }
}

/// Closes the connection when the deadline passes, unless it became a WebSocket first (this handler is then
/// removed). Leaves the plain-connection count when it goes, whichever way.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let deadline: TimeAmount
    private let count: PlainConnectionCount
    private let address: String
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount, count: PlainConnectionCount, address: String) {
        self.deadline = deadline
        self.count = count
        self.address = address
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        count.leave(address)
    }
}

/// Lets the async HTTP side write `ByteBuffer` bodies.
final class HTTPResponsePartHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPPart<HTTPResponseHead, ByteBuffer>
    typealias OutboundOut = HTTPServerResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head): context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body(let buffer): context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: promise)
        case .end(let trailers): context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        }
    }
}
