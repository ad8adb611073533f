import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import SupportBotCore
@testable import SupportBotServer
@testable import SupportBotStore

/// The web listener on a real socket: pages and files over HTTP, and both protocols over WebSocket.
@Suite("Web listener", .timeLimit(.minutes(2)))
struct WebListenerTests {
    @Test func pagesFilesAndHealth() async throws {
        let running = try await RunningServer.start(handoff: HandoffFixture.quickGrace, web: true)
        let port = running.webPort

        let shop = try await HTTPExchange.get(port: port, "/")
        #expect(shop.status == 200)
        #expect(shop.headers["content-type"] == "text/html; charset=utf-8")
        #expect(shop.headers["content-security-policy"]?.contains("script-src 'self'") == true)
        #expect(shop.body.contains("<script src=\"/widget.js\" data-title=\"Help\"></script>"))

        let widget = try await HTTPExchange.get(port: port, "/widget.js")
        #expect(widget.status == 200)
        #expect(widget.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(widget.headers["cross-origin-resource-policy"] == "cross-origin")
        #expect(widget.body.contains("WebSocket"))
        let css = try await HTTPExchange.get(port: port, "/widget.css")
        #expect(css.headers["content-type"] == "text/css; charset=utf-8")
        // The budget: widget.js and its CSS under 30 KB together.
        #expect(PackageResources.widget_js.count + PackageResources.widget_css.count < 30_000)

        let console = try await HTTPExchange.get(port: port, "/agent")
        #expect(console.status == 200)
        #expect(console.body.contains("agent.js"))
        for path in ["/agent.js", "/agent.css", "/demo.css"] {
            #expect(try await HTTPExchange.get(port: port, path).status == 200, "\(path)")
        }

        let health = try await HTTPExchange.get(port: port, "/healthz")
        #expect(health.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "ok")
        #expect(object["kb_version"] as? Int == 1)

        // Revalidation: the same file answers 304 with no body.
        let etag = try #require(widget.headers["etag"])
        let again = try await HTTPExchange.get(port: port, "/widget.js", headers: ["If-None-Match: \(etag)"])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)

        let head = try await HTTPExchange.get(port: port, "/", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.headers["content-length"] == String(PackageResources.index_html.count))
        #expect(head.body.isEmpty)

        let missing = try await HTTPExchange.get(port: port, "/admin")
        #expect(missing.status == 404)
        #expect(missing.body.contains("Try / for the demo shop"))
        let post = try await HTTPExchange.get(port: port, "/", method: "POST")
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET, HEAD")
        let chatPage = try await HTTPExchange.get(port: port, "/chat")
        #expect(chatPage.status == 426)
        await running.stop()
    }

    @Test func customerProtocolOverWebSocket() async throws {
        let running = try await RunningServer.start(web: true)
        let client = try await LineClient.connectWebSocket(port: running.webPort, origin: "http://127.0.0.1:\(running.webPort)")
        let welcome = try await client.next(type: "welcome")
        let session = try #require(welcome["session"] as? String)
        #expect((welcome["text"] as? String)?.contains("Test Shop") == true)

        let reply = try await client.ask("wher is my packge")
        #expect(reply["type"] as? String == "reply")
        #expect(reply["intent"] as? String == "orders.track")
        // A plain text frame is a `say`, as a plain line is on TCP.
        try await client.send("i want to return my boots")
        #expect(try #require(try await client.next())["intent"] as? String == "returns.start")
        try await client.send(json: ["type": "ping"])
        #expect(try #require(try await client.next())["type"] as? String == "pong")
        let health = try await HTTPExchange.get(port: running.webPort, "/healthz")
        #expect(health.body.contains("\"chats\":1"))
        await client.close()

        // The transcript is stored as for TCP, and the chat resumes over a new WebSocket.
        let stored = try await running.database.transcript(sessionID: session)
        #expect(stored.count == 4)
        let back = try await LineClient.connectWebSocket(port: running.webPort)
        _ = try await back.next(type: "welcome")
        try await back.send(json: ["type": "hello", "session": session])
        let resumed = try await back.next(type: "welcome")
        #expect(resumed["resumed"] as? Bool == true)
        #expect((resumed["history"] as? [[String: Any]])?.count == 4)
        await back.close()
        await running.stop()
    }

    @Test func sameErrorsAndLimitsAsTCP() async throws {
        let running = try await RunningServer.start(web: true) { $0.maxLineBytes = 200 }
        let client = try await LineClient.connectWebSocket(port: running.webPort)
        _ = try await client.next(type: "welcome")
        try await client.send("{\"type\":\"say\"")
        let bad = try #require(try await client.next())
        #expect(bad["code"] as? String == "bad_json")
        try await client.send("{\"type\":\"dance\"}")
        #expect(try #require(try await client.next())["code"] as? String == "unknown_type")
        // Still open after errors that keep the connection.
        try await client.send(json: ["type": "ping"])
        #expect(try #require(try await client.next())["type"] as? String == "pong")
        try await client.send(String(repeating: "a", count: 201))
        let tooLong = try #require(try await client.next())
        #expect(tooLong["code"] as? String == "line_too_long")
        #expect(try await client.next() == nil, "closed after line_too_long")
        await running.stop()
    }

    @Test func frameRules() async throws {
        let running = try await RunningServer.start(web: true) { $0.maxLineBytes = 200 }
        let port = running.webPort
        typealias Raw = RawWebSocket

        // A message in two fragments, with a ping between them: one message, and a pong.
        var frames = try await Raw.exchange(port: port, [
            Raw.text("{\"type\":", fin: false), Raw.frame(0x9, Array("hi".utf8)), Raw.frame(0x0, Array("\"ping\"}".utf8)),
        ], closeAfter: "{\"type\":\"pong\"}")
        #expect(frames.contains { $0.text.contains("\"welcome\"") })
        #expect(frames.contains { $0.opcode == 0xA && $0.text == "hi" }, "no pong")
        #expect(frames.contains { $0.text == "{\"type\":\"pong\"}" }, "\(frames.map(\.text))")
        #expect(frames.last?.closeCode == 1000, "the client's close is answered")

        // Too long: line_too_long, then a close frame.
        frames = try await Raw.exchange(port: port, [Raw.text(String(repeating: "a", count: 150), fin: false),
                                                     Raw.frame(0x0, Array(String(repeating: "b", count: 100).utf8))])
        #expect(frames.dropLast().last?.text.contains("line_too_long") == true, "\(frames.map(\.text))")
        #expect(frames.last?.closeCode == 1000)

        // Broken frames close the connection with 1002 (protocol error).
        let broken: [(String, [UInt8])] = [
            ("not masked", Raw.frame(0x1, Array("{\"type\":\"ping\"}".utf8), masked: false)),
            ("reserved bit", Raw.frame(0x1, Array("hi".utf8), rsv1: true)),
            ("reserved opcode", Raw.frame(0x3, Array("hi".utf8))),
            ("continuation out of nowhere", Raw.frame(0x0, Array("hi".utf8))),
            ("new message inside a fragmented one", Raw.text("{", fin: false) + Raw.text("hi")),
        ]
        for (name, frame) in broken {
            let answer = try await Raw.exchange(port: port, [frame])
            #expect(answer.last?.closeCode == 1002, "\(name): \(answer.map(\.opcode))")
            #expect(!answer.contains { $0.text.contains("pong") || $0.text.contains("reply") }, "\(name)")
        }
        await running.stop()
    }

    @Test func slowRequestsAreCutAtTheDeadline() async throws {
        let running = try await RunningServer.start(web: true) { $0.webRequestDeadlineSeconds = 1 }
        // The deadline runs from the server's accept, which comes before the client hears its connect is done (later
        // still on a busy machine): time from before the connect, so the lower bound holds however slow that is.
        let start = ContinuousClock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: running.webPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            // A byte every 300 ms (for 20 s in all) would reset an idle timer for ever; the deadline still comes.
            let dripper = Task {
                for byte in "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a-very-slow-client-that-never-ends\r\n".utf8 {
                    try await outbound.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: .milliseconds(300))
                }
            }
            defer { dripper.cancel() }
            do { for try await _ in inbound {} } catch {}
        }
        let elapsed = ContinuousClock.now - start
        // Cut at the 1 s deadline: the bound is a safety net far above it, and far below the drip's 20 s.
        #expect(elapsed < .seconds(12), "still open after \(elapsed)")
        #expect(elapsed > .milliseconds(700))
        await running.stop()
    }

    @Test func webSocketsShareTheConnectionLimit() async throws {
        let running = try await RunningServer.start(web: true) { $0.maxConnections = 1 }
        let tcp = try await running.connect()
        _ = try await tcp.next(type: "welcome")
        let web = try await LineClient.connectWebSocket(port: running.webPort)
        let refused = try #require(try await web.next())
        #expect(refused["code"] as? String == "server_full")
        #expect(try await web.next() == nil)
        await tcp.close()
        await running.stop()
    }

    @Test func originsOtherThanTheServersOwnAreRefused() async throws {
        let running = try await RunningServer.start(web: true) { $0.allowedOrigins = ["https://shop.example/"] }
        let port = running.webPort
        await #expect(throws: WebSocketRefused.self) {
            _ = try await LineClient.connectWebSocket(port: port, origin: "https://evil.example")
        }
        let refused = try await HTTPExchange.get(port: port, "/chat", headers: [
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: https://evil.example",
        ])
        #expect(refused.status == 403)
        #expect(refused.body.contains("--allowed-origin https://evil.example"))

        for origin in ["https://shop.example", "http://127.0.0.1:\(port)", "HTTPS://SHOP.EXAMPLE"] {
            let client = try await LineClient.connectWebSocket(port: port, origin: origin)
            #expect(try await client.next(type: "welcome")["type"] as? String == "welcome", "\(origin)")
            await client.close()
        }
        await running.stop()

        let open = try await RunningServer.start(handoff: HandoffFixture.quickGrace, web: true) {
            $0.allowedOrigins = ["*"]
        }
        let anyone = try await LineClient.connectWebSocket(port: open.webPort, origin: "https://evil.example")
        _ = try await anyone.next(type: "welcome")
        await anyone.close()
        // `*` is for the chat only: the agent console takes its own pages and listed sites.
        await #expect(throws: WebSocketRefused.self) {
            _ = try await LineClient.connectWebSocket(port: open.webPort, path: "/agent", origin: "https://evil.example")
        }
        await open.stop()
    }

    @Test func aSiteThatPointsItsNameAtTheServerIsNotItsOwnPage() async throws {
        // DNS rebinding: evil.example resolves to 127.0.0.1, so its page sends Origin and Host that agree.
        let running = try await RunningServer.start(handoff: HandoffFixture.quickGrace, web: true)
        let port = running.webPort
        for path in ["/chat", "/agent"] {
            await #expect(throws: WebSocketRefused.self, "\(path)") {
                _ = try await LineClient.connectWebSocket(port: port, path: path, origin: "http://evil.example:\(port)",
                                                          host: "evil.example:\(port)")
            }
        }
        // Addresses and localhost are the server's own names.
        for host in ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)"] {
            let client = try await LineClient.connectWebSocket(port: port, origin: "http://\(host)", host: host)
            _ = try await client.next(type: "welcome")
            await client.close()
        }
        await running.stop()
    }

    @Test func agentConsoleProtocolOverWebSocket() async throws {
        let running = try await RunningServer.start(engine: HandoffFixture.engine(), handoff: HandoffFixture.quickGrace,
                                                    web: true)
        let token = AgentToken.generate()
        _ = try await running.database.addAgent(name: "Sam", skills: [], tokenHash: AgentToken.hash(token), at: Date())
        let sam = try await LineClient.connectWebSocket(port: running.webPort, path: "/agent")
        _ = try await sam.next(type: "hello")
        try await sam.send(json: ["type": "login", "token": token])
        #expect(try await sam.next(type: "welcome")["agent"] as? String == "Sam")
        _ = try await sam.next(type: "queue")

        let customer = try await LineClient.connectWebSocket(port: running.webPort)
        _ = try await customer.welcomed()
        let ticket = try ticketID(try await customer.handOff("i want to talk to a human"))
        #expect(try ticketID(try await sam.next(type: "ticket_new")) == ticket)

        try await sam.send(json: ["type": "claim", "ticket": ticket])
        let claimed = try await sam.next(type: "claimed")
        #expect((claimed["transcript"] as? [[String: Any]])?.isEmpty == false)
        #expect(try await customer.next(type: "agent_joined")["agent"] as? String == "Sam")
        try await sam.send(json: ["type": "say", "ticket": ticket, "text": "Hi, I'm Sam. <b>How</b> can I help?"])
        _ = try await sam.next(type: "sent")
        #expect(try await customer.next(type: "agent")["text"] as? String == "Hi, I'm Sam. <b>How</b> can I help?")
        try await customer.send("my order 4411 is late")
        #expect(try await sam.next(type: "customer")["text"] as? String == "my order 4411 is late")
        try await sam.send(json: ["type": "close", "ticket": ticket, "resolution": "sent tracking"])
        _ = try await sam.next(type: "closed")
        #expect(try await customer.next(type: "agent_left")["ask_rating"] as? Bool == true)
        try await customer.send(json: ["type": "rate", "score": 5])
        #expect(try await customer.next(type: "rated")["score"] as? Int == 5)
        await customer.close()
        await sam.close()
        await running.stop()
    }

    @Test func noAgentConsoleWithoutAgents() async throws {
        let running = try await RunningServer.start(web: true)
        await #expect(throws: WebSocketRefused.self) {
            _ = try await LineClient.connectWebSocket(port: running.webPort, path: "/agent")
        }
        #expect(try await HTTPExchange.get(port: running.webPort, "/agent").status == 404)
        await running.stop()
    }

    @Test func shutdownTellsWebSocketClients() async throws {
        let running = try await RunningServer.start(web: true)
        let client = try await LineClient.connectWebSocket(port: running.webPort)
        _ = try await client.next(type: "welcome")
        running.server.stopAccepting()
        let line = try #require(try await client.next())
        #expect(line["code"] as? String == "shutting_down")
        #expect(try await client.next() == nil)
        await running.stop()
    }
}
