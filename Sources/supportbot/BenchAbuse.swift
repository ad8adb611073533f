import ArgumentParser
import Foundation
import Synchronization
import NIOCore
import NIOPosix
import SupportBotCore
import SupportBotServer

struct BenchAbuse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abuse",
        abstract: "Flood a real `supportbot serve` with connections and token guesses, and time a normal customer and agent meanwhile.",
        discussion: """
            Starts `supportbot serve` as a child process with its default limits (temporary database, free ports) and
            one agent. From other loopback addresses it then opens connections as fast as it can and keeps them: to
            the chat port (127.0.0.2), the web port (127.0.0.3) and the agent port (127.0.0.4 to 127.0.0.13, enough
            to fill every agent slot with connections that never log in), and guesses agent tokens (127.0.0.20).
            Meanwhile a customer from 127.0.0.1 connects and asks a question, and the agent logs in and pings, again
            and again. The target: each is served within 1 second. `swift test` runs a short version of this
            (AbuseTests); its fuzzing and kill -9 tests take SUPPORTBOT_FUZZ_LINES and SUPPORTBOT_KILLS for longer runs.
            """)

    @OptionGroup var knowledge: KnowledgeOptions

    @Option(help: "Seconds to keep the flood going while timing.")
    var seconds: Int = 20

    @Option(help: "Connections each flooding address keeps open at most (older ones are closed as new ones open).")
    var keep: Int = 1_500

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard seconds >= 1 else { throw ValidationError("--seconds must be at least 1.") }
        guard keep >= 1 else { throw ValidationError("--keep must be at least 1.") }
    }

    func run() async throws {
        FileLimit.raise(to: UInt64(keep * 12) + 1_024)
        guard let executable = Bundle.main.executablePath else {
            throw UserFacingError("Can't find the supportbot executable to start a server.")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("supportbot-abuse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("abuse.sqlite").path
        let token = try Self.addAgent(executable: executable, db: db)

        let server = try await ServeProcess.start(executable: executable, arguments: ["--db", db], knowledge: knowledge)
        defer { server.stop() }
        let ports = server.ports

        let flood = Flooder(keep: keep)
        let clock = ContinuousClock()
        var customer: [Double] = [], agent: [Double] = []
        var failures: [String] = []
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await flood.open(port: ports.chat, from: "127.0.0.2") }
            group.addTask { await flood.open(port: ports.web, from: "127.0.0.3") }
            for n in 4...13 { group.addTask { await flood.open(port: ports.agent, from: "127.0.0.\(n)") } }
            group.addTask { await flood.guess(port: ports.agent, from: "127.0.0.20") }
            // Let the flood fill the server first.
            try? await Task.sleep(for: .seconds(2))
            let end = clock.now + .seconds(seconds)
            while clock.now < end {
                do {
                    customer.append(try await clock.measure { try await Self.customerServed(port: ports.chat) }.milliseconds)
                    agent.append(try await clock.measure {
                        try await Self.agentServed(port: ports.agent, token: token)
                    }.milliseconds)
                } catch {
                    failures.append("\(error)")
                }
            }
            flood.stop()
        }
        let counts = flood.counts
        let customers = LatencySummary(customer), agents = LatencySummary(agent)
        var output = BenchOutput()
        output.add("flood", "\(counts.opened) connections opened in \(seconds + 2) s, \(counts.guesses) token guesses sent",
                   key: "flood_connections", counts.opened)
        output.json["wrong_tokens"] = counts.guesses
        output.add("customer: connect, welcome, reply", Self.describe(customers),
                   key: "customer_ms", ["p50": customers.p50, "p99": customers.p99, "max": customers.max])
        output.add("agent: connect, log in, pong", Self.describe(agents),
                   key: "agent_ms", ["p50": agents.p50, "p99": agents.p99, "max": agents.max])
        output.add("not served", failures.isEmpty ? "none" : "\(failures.count): \(failures.first ?? "")",
                   key: "not_served", failures.count)
        let met = failures.isEmpty && customers.max <= 1_000 && agents.max <= 1_000
        output.add("target (each served within 1 s)", met ? "met" : "NOT met", key: "target_met", met)
        try output.print(asJSON: json)
    }

    static func describe(_ summary: LatencySummary) -> String {
        String(format: "%d times: p50 %.1f ms, p99 %.1f ms, max %.1f ms", summary.count, summary.p50, summary.p99,
               summary.max)
    }

    /// Runs `supportbot agents add` on the database and returns the token it printed.
    static func addAgent(executable: String, db: String) throws -> String {
        let add = Process()
        add.executableURL = URL(fileURLWithPath: executable)
        add.arguments = ["agents", "add", "Bench", "--db", db]
        let output = Pipe()
        add.standardOutput = output
        try add.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        add.waitUntilExit()
        guard let token = text.split(whereSeparator: \.isWhitespace).first(where: { $0.hasPrefix("sbt_") }) else {
            throw UserFacingError("Could not add an agent for the benchmark: \(text)")
        }
        return String(token)
    }

    struct NotServed: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens a chat, waits for the welcome, asks, and waits for the reply.
    static func customerServed(port: Int) async throws {
        let channel = try await LoadDriver.connect(port: port)
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            guard case .line(let welcome)? = try await lines.next(), welcome.contains(Array(#""welcome""#.utf8)) else {
                throw NotServed(description: "a customer got no welcome")
            }
            try await outbound.write(ByteBuffer(string: #"{"type":"say","text":"where is my order"}"# + "\n"))
            guard case .line(let reply)? = try await lines.next(), reply.contains(Array(#""reply""#.utf8)) else {
                throw NotServed(description: "a customer got no reply")
            }
        }
    }

    /// Connects to the agent port, logs in and pings.
    static func agentServed(port: Int, token: String) async throws {
        let channel = try await LoadDriver.connect(port: port)
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            try await outbound.write(ByteBuffer(string: #"{"type":"login","token":""# + token + "\"}\n"))
            try await outbound.write(ByteBuffer(string: #"{"type":"ping"}"# + "\n"))
            while case .line(let line)? = try await lines.next() {
                if line.contains(Array(#""pong""#.utf8)) { return }
                if line.contains(Array(#""error""#.utf8)) {
                    throw NotServed(description: "the agent got " + String(decoding: line, as: UTF8.self))
                }
            }
            throw NotServed(description: "the agent's connection closed before pong")
        }
    }
}

private extension [UInt8] {
    func contains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

/// Opens connections from one address as fast as they go, keeping the newest `keep`; guesses tokens.
private final class Flooder: Sendable {
    private let keep: Int
    private let state = Mutex<(on: Bool, opened: Int, guesses: Int)>((true, 0, 0))

    init(keep: Int) { self.keep = keep }

    var counts: (opened: Int, guesses: Int) { state.withLock { ($0.opened, $0.guesses) } }
    private var on: Bool { state.withLock { $0.on } }
    func stop() { state.withLock { $0.on = false } }

    func open(port: Int, from address: String) async {
        var held: [any Channel] = []
        while on {
            guard let local = try? SocketAddress(ipAddress: address, port: 0),
                  let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(to: local).connect(host: "127.0.0.1", port: port).get() else {
                try? await Task.sleep(for: .milliseconds(10))  // out of ports or files: don't spin
                continue
            }
            state.withLock { $0.opened += 1 }
            held.append(channel)
            if held.count > keep { held.removeFirst().close(promise: nil) }
        }
        for channel in held { channel.close(promise: nil) }
    }

    func guess(port: Int, from address: String) async {
        let lines = (0..<3).map { #"{"type":"login","token":"sbt_guess"# + "\($0)\"}\n" }.joined()
        while on {
            guard let local = try? SocketAddress(ipAddress: address, port: 0),
                  let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(to: local).connect(host: "127.0.0.1", port: port).get() else { continue }
            try? await channel.writeAndFlush(ByteBuffer(string: lines))
            state.withLock { $0.guesses += 3 }
            try? await Task.sleep(for: .milliseconds(5))
            try? await channel.close()
        }
    }
}
