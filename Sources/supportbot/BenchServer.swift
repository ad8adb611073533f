import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import SupportBotCore
import SupportBotServer
import SupportBotStore
#if canImport(Glibc)
import Glibc
#endif

struct BenchServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Drive the real server and a bare echo server with the same load, in one run, and compare.",
        discussion: """
            Both listen on 127.0.0.1 in this process. Each connection sends `say` lines with questions from the
            knowledge base and waits for each reply. The real server stores every exchange in a temporary SQLite
            file; afterwards the stored messages are counted. The handoff desk is off: every message gets a bot reply.
            """)

    @OptionGroup var knowledge: KnowledgeOptions

    @Option(help: "Concurrent connections.")
    var connections: Int = 1000

    @Option(help: "Messages in all, spread over the connections.")
    var messages: Int = 200_000

    @Option(help: "Pause after each reply before the next message, like a person typing (0: send at once).")
    var thinkMs: Int = 0

    @Option(help: "While the bot is under load, swap in a newly built knowledge-base version this often (0: never).")
    var swapEveryMs: Int = 0

    @Flag(help: """
        Open a new connection for every message: connect, wait for the welcome, ask one question, close (as a \
        widget that reconnects for each question would). --connections chats do this at once.
        """)
    var connectionPerMessage = false

    @Option(help: """
        Drive a SupportBot already listening on this port of 127.0.0.1 (for example another build's `serve`), \
        instead of starting one in this process. No echo server, no store count.
        """)
    var against: Int?

    @Flag(help: "Print JSON.")
    var json = false

    /// Messages for the engine-alone and store-alone measurements (enough for steady figures, a few seconds).
    static let budgetMessages = 50_000

    func validate() throws {
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1.") }
        guard messages >= connections else { throw ValidationError("--messages must be at least --connections.") }
        guard thinkMs >= 0 else { throw ValidationError("--think-ms must be 0 or more.") }
        guard swapEveryMs >= 0 else { throw ValidationError("--swap-every-ms must be 0 or more.") }
        if let against, !(1...65_535).contains(against) {
            throw ValidationError("--against must be a port number, 1 to 65535.")
        }
        if against != nil && swapEveryMs > 0 {
            throw ValidationError("--swap-every-ms needs the server in this process: leave out --against.")
        }
    }

    /// Drives a server that is already running, and prints what its clients saw.
    private func runAgainst(port: Int, lines: [[UInt8]]) async throws {
        let run = try await LoadDriver.run(port: port, connections: connections, messages: messages, lines: lines,
                                           expectsWelcome: true, think: .milliseconds(thinkMs),
                                           connectionPerMessage: connectionPerMessage)
        var output = BenchOutput()
        output.add("connections / messages", "\(connections) / \(messages)" + describeMode)
        output.add("server on port \(port)", String(format: "%.0f msgs/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                                                   run.perSecond, run.latency.p50, run.latency.p99, run.latency.max),
                   key: "bot_msgs_per_s", run.perSecond.rounded())
        output.json["bot_p50_ms"] = run.latency.p50
        output.json["bot_p99_ms"] = run.latency.p99
        output.json["bot_max_ms"] = run.latency.max
        output.add("CPU per message (the client only)", String(format: "%.1f µs", run.cpuMicrosecondsPerReply),
                   key: "client_cpu_us_per_msg", (run.cpuMicrosecondsPerReply * 10).rounded() / 10)
        output.add("error replies", "\(run.errors)", key: "failed", run.errors)
        output.add("unanswered messages", "\(messages - run.replies)", key: "unanswered", messages - run.replies)
        try output.print(asJSON: json)
        if run.replies < messages { throw ExitCode(2) }
    }

    private var describeMode: String {
        (connectionPerMessage ? ", a new connection for each message" : "")
            + (thinkMs > 0 ? ", \(thinkMs) ms between a reply and the next message" : ", each sent as soon as the last reply came")
    }

    func run() async throws {
        FileLimit.raise(to: UInt64(connections) * 2 + 256)
        let knowledgeBase = try knowledge.loadKnowledgeBase()
        let questions = knowledgeBase.intents.filter { !$0.handoff }.flatMap(\.examples)
        guard !questions.isEmpty else { throw UserFacingError("The knowledge base has no examples to ask.") }
        let lines = questions.map { question -> [UInt8] in
            let data = (try? JSONSerialization.data(withJSONObject: ["type": "say", "text": question])) ?? Data()
            return Array(data) + [UInt8(ascii: "\n")]
        }
        if let against { return try await runAgainst(port: against, lines: lines) }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("supportbot-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        MoodDetector.prepare()
        let live = LiveEngine(SupportEngine(knowledgeBase: knowledgeBase, version: 1))
        live.engine.moodDetector.prepareModels()
        // Before any load: the engine alone and the store alone, to show what bounds the ratio. Only for a closed
        // loop, where both servers keep the cores busy and the ratio follows CPU per message.
        let budget = thinkMs > 0 ? nil : try await CPUBudget.measure(
            engine: live.engine, questions: questions, chats: connections,
            messages: min(messages, Self.budgetMessages), folder: folder)

        // The ceiling: a bare NIO server with the same framing that sends each line straight back.
        let echo = try await EchoLineServer.start(maxLine: 4096)
        let echoRun = try await LoadDriver.run(port: echo.port, connections: connections, messages: messages,
                                               lines: lines, expectsWelcome: false, think: .milliseconds(thinkMs),
                                               connectionPerMessage: connectionPerMessage)
        try await echo.stop()

        let database = try SupportBotDatabase.open(path: folder.appendingPathComponent("bench.sqlite").path)
        // The real server as `serve` runs it, with the desk, the web listener and the watcher left out.
        var configuration = SupportBotApplication.Configuration()
        configuration.server.port = 0
        configuration.server.maxConnections = connections + 16
        // Every load connection comes from 127.0.0.1.
        configuration.server.maxConnectionsPerAddress = 0
        configuration.server.rateBurst = Int.max / 2
        configuration.server.ratePerSecond = 1e9
        configuration.handoff = nil
        configuration.web = false
        configuration.knowledge = nil
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let app = try await SupportBotApplication.start(configuration, database: database, engine: live, logger: logger)
        let server = app.chat
        let serverTask = Task { try await server.run() }
        // Publishing under load: a new engine is built and swapped in while replies are in flight.
        // Each build, from its start to its swap: replies in flight then are compared with the others.
        let swapper = Task { [swapEveryMs] () -> [ClosedRange<ContinuousClock.Instant>] in
            guard swapEveryMs > 0 else { return [] }
            var windows: [ClosedRange<ContinuousClock.Instant>] = []
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(swapEveryMs))
                if Task.isCancelled { break }
                let began = ContinuousClock.now
                // As the server's knowledge watcher does: on one thread of its own that steps aside for chats.
                let version = live.engine.version + 1
                guard let next = try? await LiveEngine.offPool({
                    EngineBuild.oneCore.run {
                        let engine = SupportEngine(knowledgeBase: knowledgeBase, version: version, build: .oneCore)
                        engine.moodDetector.prepareModels()
                        return engine
                    }
                }) else { break }
                live.swap(to: next)
                windows.append(began...ContinuousClock.now)
            }
            return windows
        }
        let botRun = try await LoadDriver.run(port: server.port, connections: connections, messages: messages,
                                              lines: lines, expectsWelcome: true, think: .milliseconds(thinkMs),
                                              connectionPerMessage: connectionPerMessage)
        swapper.cancel()
        let windows = await swapper.value
        let swaps = windows.count
        server.stopAccepting()
        _ = try? await serverTask.value
        let stored = try await database.messageCount()
        try? database.close()
        let lost = max(0, botRun.replies * 2 - stored) / 2 + (messages - botRun.replies)

        var output = BenchOutput()
        output.add("connections / messages", "\(connections) / \(messages)" + describeMode)
        output.add("echo server", String(format: "%.0f msgs/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                                         echoRun.perSecond, echoRun.latency.p50, echoRun.latency.p99,
                                         echoRun.latency.max), key: "echo_msgs_per_s", echoRun.perSecond.rounded())
        output.add("bot server", String(format: "%.0f msgs/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                                        botRun.perSecond, botRun.latency.p50, botRun.latency.p99,
                                        botRun.latency.max), key: "bot_msgs_per_s", botRun.perSecond.rounded())
        output.json["echo_p99_ms"] = echoRun.latency.p99
        output.json["bot_p50_ms"] = botRun.latency.p50
        output.json["bot_p99_ms"] = botRun.latency.p99
        output.json["bot_max_ms"] = botRun.latency.max
        let ratio = echoRun.perSecond > 0 ? botRun.perSecond / echoRun.perSecond : 0
        output.add("throughput bot / echo", String(format: "%.2f", ratio), key: "throughput_ratio",
                   (ratio * 100).rounded() / 100)
        output.add("CPU per message (client and server)",
                   String(format: "echo %.1f µs, bot %.1f µs", echoRun.cpuMicrosecondsPerReply,
                          botRun.cpuMicrosecondsPerReply), key: "echo_cpu_us_per_msg",
                   (echoRun.cpuMicrosecondsPerReply * 10).rounded() / 10)
        output.json["bot_cpu_us_per_msg"] = (botRun.cpuMicrosecondsPerReply * 10).rounded() / 10
        // How busy the machine was: CPU time over wall time, for all cores (1.0 = every core busy all along).
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let echoShare = echoRun.cpuMicrosecondsPerReply * echoRun.perSecond / 1e6 / cores
        let botShare = botRun.cpuMicrosecondsPerReply * botRun.perSecond / 1e6 / cores
        output.add("CPU share of the \(Int(cores)) cores", String(format: "echo %.0f%%, bot %.0f%%", echoShare * 100,
                                                                 botShare * 100),
                   key: "bot_cpu_share", (botShare * 100).rounded() / 100)
        output.json["echo_cpu_share"] = (echoShare * 100).rounded() / 100
        if let budget {
            output.add("of which the engine alone", String(format: "%.1f µs per reply (one thread, no load)",
                                                           budget.engineMicroseconds),
                       key: "engine_cpu_us_per_reply", (budget.engineMicroseconds * 10).rounded() / 10)
            output.add("and the store alone", String(format: "%.1f µs per exchange (%d chats writing at once, no load)",
                                                     budget.storeMicroseconds, connections),
                       key: "store_cpu_us_per_exchange", (budget.storeMicroseconds * 10).rounded() / 10)
            let bound = budget.ratioBound(echoMicroseconds: echoRun.cpuMicrosecondsPerReply)
            output.add("best ratio engine + store allow",
                       String(format: "%.2f (echo ÷ (echo + engine + store), per message)", bound),
                       key: "ratio_bound", (bound * 100).rounded() / 100)
        }
        if swapEveryMs > 0 {
            let builds = LatencySummary(windows.map { ($0.upperBound - $0.lowerBound).milliseconds })
            output.add("knowledge-base swaps during the run", String(format: "%d, each built in p50 %.0f ms, max %.0f ms",
                                                                     swaps, builds.p50, builds.max), key: "swaps", swaps)
            output.json["swap_build_p50_ms"] = builds.p50
            output.json["swap_build_max_ms"] = builds.max
            // A reply "meets a swap" when the time it was waited for overlaps a build (start to swap).
            var during: [Double] = [], outside: [Double] = []
            for (sent, milliseconds) in botRun.samples {
                let received = sent + .microseconds(Int64(milliseconds * 1000))
                if windows.contains(where: { $0.lowerBound <= received && sent <= $0.upperBound }) {
                    during.append(milliseconds)
                } else {
                    outside.append(milliseconds)
                }
            }
            let duringSwaps = LatencySummary(during), otherwise = LatencySummary(outside)
            let slower = during.filter { $0 > otherwise.p99 }.count
            // By chance alone, 1% of them would be slower than the others' p99.
            let share = during.isEmpty ? 0 : Double(slower) / Double(during.count) * 100
            output.add("replies that met a swap", String(format: "%d: p99 %.2f ms, max %.2f ms (the others: p99 %.2f ms); "
                                                         + "%d (%.1f%%) slower than the others' p99", during.count,
                                                         duringSwaps.p99, duringSwaps.max, otherwise.p99, slower, share),
                       key: "swap_replies", during.count)
            output.json["swap_p99_ms"] = duringSwaps.p99
            output.json["swap_max_ms"] = duringSwaps.max
            output.json["other_p99_ms"] = otherwise.p99
            output.json["swap_slower_than_other_p99"] = slower
        }
        output.add("error replies", "\(botRun.errors)", key: "failed", botRun.errors)
        output.add("stored transcript lines", "\(stored) (2 per exchange)", key: "stored", stored)
        output.add("lost messages", "\(lost)", key: "lost", lost)
        try output.print(asJSON: json)
        if lost > 0 { throw ExitCode(2) }
    }
}

/// Raises this process's open-file limit (each connection needs a file descriptor on both ends).
enum FileLimit {
    static func raise(to wanted: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let target = min(max(limit.rlim_cur, rlim_t(wanted)), limit.rlim_max)
        guard target > limit.rlim_cur else { return }
        limit.rlim_cur = target
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// A bare SwiftNIO JSON Lines server: the same line framing as SupportBot, each line sent straight back.
final class EchoLineServer: Sendable {
    private let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    static func start(maxLine: Int) async throws -> EchoLineServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maximumLength: maxLine)))
                    try channel.pipeline.syncOperations.addHandler(EchoLineHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return EchoLineServer(channel: channel)
    }

    func stop() async throws { try await channel.close() }
}

final class EchoLineHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = InboundLine
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let bytes) = unwrapInboundIn(data) else { return }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(ascii: "\n"))
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
}

/// Many concurrent connections, each sending a line and waiting for the reply before the next.
enum LoadDriver {
    struct Result {
        var replies: Int
        /// Replies that were `error` lines.
        var errors: Int
        var perSecond: Double
        /// Milliseconds.
        var latency: LatencySummary
        /// Each reply: when its message was sent, and how many milliseconds the reply took.
        var samples: [(sent: ContinuousClock.Instant, milliseconds: Double)]
        /// CPU time of the whole process (client and server) while the messages were sent, per reply, microseconds.
        var cpuMicrosecondsPerReply: Double

        /// The figures of a run that began at `start`, when the process had used `cpuAtStart` seconds of CPU.
        init(samples: [(sent: ContinuousClock.Instant, milliseconds: Double)], errors: Int,
             since start: ContinuousClock.Instant, cpuAtStart: Double) {
            let seconds = (ContinuousClock.now - start).milliseconds / 1000
            replies = samples.count
            self.errors = errors
            perSecond = seconds > 0 ? Double(samples.count) / seconds : 0
            latency = LatencySummary(samples.map(\.milliseconds))
            self.samples = samples
            cpuMicrosecondsPerReply = (CPUClock.process() - cpuAtStart) / Double(max(samples.count, 1)) * 1e6
        }
    }

    static func run(port: Int, connections: Int, messages: Int, lines: [[UInt8]], expectsWelcome: Bool,
                    think: Duration = .zero, connectionPerMessage: Bool = false) async throws -> Result {
        if connectionPerMessage {
            return try await runConnectionPerMessage(port: port, users: connections, messages: messages, lines: lines,
                                                     expectsWelcome: expectsWelcome, think: think)
        }
        let clock = ContinuousClock()
        let channels = try await withThrowingTaskGroup(of: NIOAsyncChannel<InboundLine, ByteBuffer>.self) { group in
            for _ in 0..<connections {
                group.addTask { try await connect(port: port) }
            }
            var opened: [NIOAsyncChannel<InboundLine, ByteBuffer>] = []
            for try await channel in group { opened.append(channel) }
            return opened
        }
        let start = clock.now
        let cpuAtStart = CPUClock.process()
        let perConnection = messages / connections
        let extra = messages % connections
        let errorPrefix = Array(#"{"type":"error""#.utf8)
        let outcomes = try await withThrowingTaskGroup(
            of: ([(sent: ContinuousClock.Instant, milliseconds: Double)], Int).self) { group in
            for (index, channel) in channels.enumerated() {
                let count = perConnection + (index < extra ? 1 : 0)
                group.addTask {
                    try await channel.executeThenClose { inbound, outbound in
                        var replies = inbound.makeAsyncIterator()
                        if expectsWelcome { _ = try await replies.next() }
                        // With a pause, spread the first messages over one pause so the chats don't all talk at once.
                        if think > .zero { try await Task.sleep(for: think * Double(index) / Double(channels.count)) }
                        var timings: [(sent: ContinuousClock.Instant, milliseconds: Double)] = []
                        var errors = 0
                        timings.reserveCapacity(count)
                        for n in 0..<count {
                            let line = lines[(index * 7919 + n) % lines.count]
                            let sent = clock.now
                            try await outbound.write(ByteBuffer(bytes: line))
                            guard case .line(let reply)? = try await replies.next() else { break }
                            timings.append((sent, (clock.now - sent).milliseconds))
                            if reply.starts(with: errorPrefix) { errors += 1 }
                            if think > .zero { try await Task.sleep(for: think) }
                        }
                        return (timings, errors)
                    }
                }
            }
            var all: [(sent: ContinuousClock.Instant, milliseconds: Double)] = []
            var errors = 0
            for try await (timings, failed) in group {
                all += timings
                errors += failed
            }
            return (all, errors)
        }
        return Result(samples: outcomes.0, errors: outcomes.1, since: start, cpuAtStart: cpuAtStart)
    }

    static func connect(port: Int) async throws -> NIOAsyncChannel<InboundLine, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maximumLength: 1 << 20)))
                    return try NIOAsyncChannel<InboundLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }
}
