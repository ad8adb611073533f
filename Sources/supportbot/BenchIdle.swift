import ArgumentParser
import Foundation
import Synchronization
import NIOCore
import NIOPosix
import SupportBotServer

struct BenchIdle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Open many idle customer connections to a real `supportbot serve` and report its memory per connection.",
        discussion: """
            Starts `supportbot serve` as a child process (temporary database, free ports), reads its resident memory,
            opens the connections from this process (each waits for its welcome), reads the memory again and stops it.
            """)

    @OptionGroup var knowledge: KnowledgeOptions

    @Option(help: "Idle connections to open.")
    var connections: Int = 10_000

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1.") }
    }

    func run() async throws {
        FileLimit.raise(to: UInt64(connections) + 256)
        guard let executable = Bundle.main.executablePath else {
            throw UserFacingError("Can't find the supportbot executable to start a server.")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("supportbot-idle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await ServeProcess.start(executable: executable, arguments: [
            "--db", folder.appendingPathComponent("idle.sqlite").path, "--max-connections", String(connections + 16),
            "--max-per-address", "0", "--idle-timeout", "3600",
        ], knowledge: knowledge)
        defer { server.stop() }
        let port = server.ports.chat
        try await Task.sleep(for: .milliseconds(500))
        let before = ProcessMemory.residentKiB(pid: server.process.processIdentifier) ?? 0

        var open: [NIOAsyncChannel<InboundLine, ByteBuffer>] = []
        open.reserveCapacity(connections)
        for _ in 0..<connections {
            let channel = try await LoadDriver.connect(port: port)
            open.append(channel)
        }
        // Each connection waits for its welcome, so the server has set up the whole chat before we measure; then it
        // stays open until the measurement is taken.
        let gate = Gate()
        let (welcomes, heard) = AsyncStream<Bool>.makeStream()
        let (welcomed, after) = await withTaskGroup(of: Void.self) { group -> (Int, Int) in
            for channel in open {
                group.addTask {
                    try? await channel.executeThenClose { inbound, _ in
                        var iterator = inbound.makeAsyncIterator()
                        if case .line? = try? await iterator.next() { heard.yield(true) } else { heard.yield(false) }
                        await gate.wait()
                    }
                }
            }
            var welcomed = 0, answers = 0
            for await answer in welcomes {
                answers += 1
                if answer { welcomed += 1 }
                if answers == open.count { break }
            }
            try? await Task.sleep(for: .seconds(1))
            let after = ProcessMemory.residentKiB(pid: server.process.processIdentifier) ?? 0
            gate.open()
            return (welcomed, after)
        }

        let perConnection = Double(after - before) / Double(max(1, welcomed))
        var output = BenchOutput()
        output.add("idle connections", "\(welcomed) of \(connections) welcomed", key: "connections", welcomed)
        output.add("server memory before", "\(before / 1024) MiB", key: "rss_before_kib", before)
        output.add("server memory with them open", "\(after / 1024) MiB", key: "rss_after_kib", after)
        output.add("per idle connection", String(format: "%.1f KiB", perConnection),
                   key: "idle_kib_per_connection", (perConnection * 10).rounded() / 10)
        try output.print(asJSON: json)
    }

}

/// `supportbot serve` as a child process on free ports (0), for the benchmarks that need a real server. Its log is
/// read until the start line gives the ports, then drained on a thread of its own, so the server never blocks on a
/// full pipe.
final class ServeProcess {
    let process: Process
    let ports: (chat: Int, agent: Int, web: Int)

    private init(process: Process, ports: (chat: Int, agent: Int, web: Int)) {
        self.process = process
        self.ports = ports
    }

    static func start(executable: String, arguments: [String], knowledge: KnowledgeOptions) async throws -> ServeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--port", "0", "--agent-port", "0", "--http-port", "0"] + arguments
            + ["--intents", knowledge.intents, "--knowledge", knowledge.knowledge]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        guard let ports = try await Self.ports(from: errors.fileHandleForReading) else {
            if process.isRunning { process.terminate() }
            throw UserFacingError("The server did not start. Run `supportbot serve --port 0` to see why.")
        }
        let drain = Thread { while !errors.fileHandleForReading.availableData.isEmpty {} }
        drain.start()
        return ServeProcess(process: process, ports: ports)
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }

    /// The chat, agent and web ports from the server's start line ("chat=HOST:PORT agents=HOST:PORT web=URL").
    private static func ports(from handle: FileHandle) async throws -> (chat: Int, agent: Int, web: Int)? {
        var seen = ""
        let deadline = ContinuousClock.now + .seconds(120)
        func port(_ key: String) -> Int? {
            guard let range = seen.range(of: key + "=") else { return nil }
            let value = seen[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "\n" }).first ?? ""
            return value.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: "/"))) }
        }
        while ContinuousClock.now < deadline {
            let data = handle.availableData
            if data.isEmpty { return nil }
            seen += String(decoding: data, as: UTF8.self)
            if seen.contains("SupportBot is listening"), let chat = port("chat"), let agent = port("agents"),
               let web = port("web") {
                return (chat, agent, web)
            }
        }
        return nil
    }
}

/// Holds tasks until it is opened; those that come later pass at once.
private final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let passNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if passNow { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
