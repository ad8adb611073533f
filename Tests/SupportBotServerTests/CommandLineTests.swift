import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// At most `limit` `supportbot` processes start or run to the end at once, whatever the test runner runs side by
/// side: on two slow, busy cores a dozen processes started together each wait behind all the others. A process waits
/// here for a slot before it starts (its timeout runs only from then).
final class ProcessSlots: @unchecked Sendable {
    static let shared = ProcessSlots(limit: 2)

    private let lock = NSLock()
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { free = limit }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = lock.withLock {
                if free > 0 {
                    free -= 1
                    return true
                }
                waiting.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if waiting.isEmpty {
                free += 1
                return nil
            }
            return waiting.removeFirst()
        }
        next?.resume()
    }

    /// Runs `work` holding a slot.
    func holding<Value>(_ work: () async throws -> Value) async rethrows -> Value {
        await acquire()
        defer { release() }
        return try await work()
    }
}

/// The real `supportbot` executable, built next to the test bundle, run with `Process`.
enum SupportBotCLI {
    /// The repository root, for the demo knowledge base in intents/ and knowledge/.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The test binary lives in `.build/<triple>/debug/`; the same folder (or one above it) holds `supportbot`.
    static let executable: URL? = {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var starts = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL { starts.append(executable) }
        if let first = CommandLine.arguments.first {
            starts.append(first.hasPrefix("/") ? URL(fileURLWithPath: first) : cwd.appendingPathComponent(first))
        }
        for start in starts {
            var folder = start.standardizedFileURL.resolvingSymlinksInPath()
            while folder.path != "/" && !folder.path.isEmpty {
                let candidate = folder.appendingPathComponent("supportbot")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                   FileManager.default.isExecutableFile(atPath: candidate.path) {
                    return candidate
                }
                folder = folder.deletingLastPathComponent()
            }
        }
        return nil
    }()

    /// One folder of learned models for every process the tests start (`LearningFolder`): the demo is learned once
    /// per build of the program, not in every process. Under .build, so nothing is left in the system's temp folder.
    static let learningFolder = repositoryRoot.appendingPathComponent(".build/test-learning").path

    /// A safety net for a command: about a hundred times what one takes here (0.1–1.5 s in a debug build).
    static let commandTimeout: Duration = .seconds(120)

    struct Outcome {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: String
        var stderr: String

        var exitedNormally: Bool { reason == .exit }
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// A started process whose output goes to files in a temporary folder (no pipe can fill up and block it).
    final class Running {
        let process = Process()
        let stdoutURL: URL
        let stderrURL: URL

        /// - Parameters:
        ///   - input: a file for standard input; none by default.
        ///   - environment: variables to set on top of the test runner's (and `SUPPORTBOT_CACHE_DIR`).
        init(_ arguments: [String], in directory: URL, output folder: URL, input: URL? = nil,
             environment extra: [String: String] = [:]) throws {
            let executable = try #require(SupportBotCLI.executable, "no supportbot executable near the test bundle")
            let name = UUID().uuidString
            stdoutURL = folder.appendingPathComponent("\(name).out")
            stderrURL = folder.appendingPathComponent("\(name).err")
            FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
            FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            process.executableURL = executable
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment["SUPPORTBOT_CACHE_DIR"] = SupportBotCLI.learningFolder
            environment.merge(extra) { $1 }
            process.environment = environment
            process.currentDirectoryURL = directory
            process.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            try process.run()
        }

        var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

        /// Waits for the process to end; kills it (and returns false) if it takes longer than `timeout`.
        func wait(timeout: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning {
                if ContinuousClock.now >= deadline {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    return false
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            process.waitUntilExit()
            return true
        }

        var outcome: Outcome {
            Outcome(status: process.terminationStatus, reason: process.terminationReason, stdout: stdout, stderr: stderr)
        }

        /// Polls stderr until a line contains `text`; returns that line.
        func waitForStderrLine(containing text: String, timeout: Duration) async throws -> String? {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let line = stderr.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
                if !process.isRunning { return stderr.split(separator: "\n").first { $0.contains(text) }.map(String.init) }
                try await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// Runs `supportbot` to the end and returns its exit status and output.
    static func run(_ arguments: [String], in directory: URL = repositoryRoot, folder: TemporaryDirectory,
                    input: URL? = nil, environment: [String: String] = [:], timeout: Duration = commandTimeout,
                    sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> Outcome {
        try await ProcessSlots.shared.holding {
            let running = try Running(arguments, in: directory, output: folder.url, input: input,
                                      environment: environment)
            let finished = try await running.wait(timeout: timeout)
            #expect(finished, "supportbot \(arguments.joined(separator: " ")) did not finish in \(timeout)",
                    sourceLocation: sourceLocation)
            return running.outcome
        }
    }

    /// A started `supportbot serve` (with port 0 for every listener) and its ports.
    struct Server {
        let running: Running
        let listening: String

        /// The port after `name=127.0.0.1:` (or `name=http://127.0.0.1:`) in the "listening" line.
        func port(_ name: String) throws -> Int {
            for prefix in ["\(name)=127.0.0.1:", "\(name)=http://127.0.0.1:"] {
                if let field = listening.split(separator: " ").first(where: { $0.hasPrefix(prefix) }),
                   let port = Int(field.dropFirst(prefix.count).filter(\.isNumber)) {
                    return port
                }
            }
            throw ServerStartError(text: "no \(name) port in: \(listening)")
        }

        var process: Process { running.process }
        var stderr: String { running.stderr }

        /// Sends SIGTERM and waits for the server to stop; false if it is still running after the safety net.
        func stop() async throws -> Bool {
            kill(running.process.processIdentifier, SIGTERM)
            return try await running.wait(timeout: SupportBotCLI.commandTimeout)
        }
    }

    struct ServerStartError: Error, CustomStringConvertible { var text: String; var description: String { text } }

    /// Starts `supportbot serve` with `arguments` after `--port 0 --agent-port 0 --http-port 0`, and waits for its
    /// "listening" line (holding a process slot until then: starting is the busy part).
    static func startServer(_ arguments: [String], in directory: URL = repositoryRoot, output folder: URL) async throws
        -> Server {
        try await ProcessSlots.shared.holding {
            let running = try Running(["serve", "--port", "0", "--agent-port", "0", "--http-port", "0"] + arguments,
                                      in: directory, output: folder)
            guard let line = try await running.waitForStderrLine(containing: "SupportBot is listening",
                                                                 timeout: commandTimeout) else {
                throw ServerStartError(text: "no 'listening' line; stderr: \(running.stderr)")
            }
            return Server(running: running, listening: line)
        }
    }
}

/// A temporary folder, removed when the test is done.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("supportbot-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ content: String) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try content.write(to: file, atomically: true, encoding: .utf8)
    }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("supportbot command line", .timeLimit(.minutes(10)))
struct CommandLineTests {
    @Test("the supportbot executable is built next to the tests")
    func executableExists() throws {
        let executable = try #require(SupportBotCLI.executable)
        #expect(FileManager.default.isExecutableFile(atPath: executable.path))
        #expect(executable.lastPathComponent == "supportbot")
    }

    @Test("eval --per-intent trains on that many rows per label, picked with --seed, and says so")
    func evalPerIntent() async throws {
        let folder = try TemporaryDirectory()
        var rows = "text,label\n"
        for (label, words) in [("card_lost", ["lost my card", "card is gone", "cannot find my card", "card missing",
                                               "i lost the card"]),
                               ("top_up", ["top up my account", "add money", "how to top up", "put money in",
                                           "top up failed"])] {
            for text in words { rows += "\(text),\(label)\n" }
        }
        try folder.write("train.csv", rows)
        try folder.write("test.csv", "text,label\nwhere is my card,card_lost\nadd some money,top_up\n")
        let train = folder.url.appendingPathComponent("train.csv").path
        let test = folder.url.appendingPathComponent("test.csv").path
        let result = try await SupportBotCLI.run(["eval", "--train", train, "--test", test,
                                                  "--per-intent", "2", "--seed", "3", "--json"], folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "not JSON: \(result.stdout)")
        #expect(object["train_examples"] as? Int == 4)
        #expect(object["per_intent"] as? Int == 2)
        #expect(object["seed"] as? Int == 3)
        let text = try await SupportBotCLI.run(["eval", "--train", train, "--test", test,
                                                "--per-intent", "2", "--seed", "3"], folder: folder)
        #expect(text.stdout.contains("2 intents from 4 examples"), "\(text.stdout)")
        #expect(text.stdout.contains("(at most 2 per label, seed 3)"), "\(text.stdout)")
    }

    @Test("ask --json answers a question with typos from the demo knowledge base")
    func askJSON() async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(["ask", "wher is my packge", "--json"], folder: folder)
        #expect(result.exitedNormally)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "not JSON: \(result.stdout)")
        #expect(object["action"] as? String == "answer")
        #expect(object["intent"] as? String == "orders.track")
        #expect(((object["text"] as? String) ?? "").isEmpty == false)
        #expect(((object["confidence"] as? Double) ?? 0) > 0)
    }

    /// Each process seeds Swift's hashing differently, so this catches any result that depends on
    /// the order of a dictionary or set: the same knowledge and message must give the same bytes.
    @Test("the same message gives exactly the same answer and scores in separate processes, learned or kept")
    func sameAnswerAcrossProcesses() async throws {
        let folder = try TemporaryDirectory()
        var outputs = Set<String>()
        // Two processes learn the engine afresh; two read what the shared folder keeps (`LearningFolder`).
        for cache in ["off", "off", SupportBotCLI.learningFolder, SupportBotCLI.learningFolder] {
            let result = try await SupportBotCLI.run(
                ["ask", "--json", "--explain", "my parcel still hasnt arrived and i want my money back"], folder: folder,
                environment: ["SUPPORTBOT_CACHE_DIR": cache])
            #expect(result.status == 0, "\(result.stderr)")
            outputs.insert(result.stdout)
        }
        #expect(outputs.count == 1)
    }

    @Test("ask --explain shows the spelling correction")
    func askExplain() async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(["ask", "--explain", "refnud"], folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let words = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("words:") }, "\(result.stdout)")
        #expect(words.contains("refnud"))
        #expect(words.contains("refund"))
        #expect(words.contains("spelling"))
        #expect(result.stdout.contains("decision:"))
    }

    @Test("a wrong argument exits non-zero with one clear error line on stderr", arguments: [
        (["serve", "--port", "99999"], "--port"),
        (["serve", "--port", "-1"], "--port"),
        (["ask"], "<text>"),
        (["frobnicate"], "frobnicate"),
        (["serve", "--log-level", "loud"], "--log-level"),
        (["serve", "--http-port", "70000"], "--http-port"),
        (["serve", "--http-port", "7700"], "--http-port"),
        (["serve", "--allowed-origin", "shop.example"], "--allowed-origin"),
        (["transcript"], "<session>"),
    ])
    func wrongArguments(arguments: [String], mention: String) async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(arguments, in: folder.url, folder: folder)
        #expect(result.exitedNormally, "ended by a signal: \(result.reason)")
        #expect(result.status != 0)
        let errors = result.stderrLines.filter { $0.hasPrefix("Error:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains(mention) == true, "\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        // Nothing was started: no database file appeared in the working folder.
        #expect(!FileManager.default.fileExists(atPath: folder.path("supportbot.sqlite")))
    }

    @Test("serve with a broken knowledge base names each problem's file and line and exits with 1")
    func serveBrokenKnowledgeBase() async throws {
        let folder = try TemporaryDirectory()
        try folder.write("kb/intents/orders.yml", """
            - id: orders.track
              title: Track my order
              answer: orders/missing
              examples: [where is my order]
            - id: orders.late
              title: My order is late
              answer: orders/late
              examples: [my order is late]

            """)
        try folder.write("kb/intents/broken.yml", """
            - id: hello
              title: [unclosed
              reply: Hi!

            """)
        try folder.write("kb/knowledge/orders/late.md", "---\ntitle: Late orders\n---\nSorry it is late.\n")
        let result = try await SupportBotCLI.run(
            ["serve", "--intents", folder.path("kb/intents"), "--knowledge", folder.path("kb/knowledge"),
             "--db", folder.path("x.sqlite"), "--port", "0", "--http-port", "0"],
            in: folder.url, folder: folder)
        #expect(result.exitedNormally, "ended by a signal: \(result.reason)")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("Not starting"), "\(result.stderr)")
        let lines = result.stderrLines
        #expect(lines.contains { $0.contains("intents/orders.yml:1:") && $0.contains("orders/missing") }, "\(result.stderr)")
        #expect(lines.contains { $0.contains("intents/broken.yml:") && $0.contains("bad YAML") }, "\(result.stderr)")
        // The bad-YAML line names the line of the problem (2 or 3: the parser notices the unclosed '[' late).
        let yamlLine = try #require(lines.first { $0.contains("intents/broken.yml:") })
        let number = yamlLine.components(separatedBy: "intents/broken.yml:").last?.split(separator: ":").first
        #expect(number.flatMap { Int($0) }.map { (2...4).contains($0) } == true, "\(yamlLine)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("x.sqlite")), "the database was created anyway")
    }

    @Test("serve answers over a socket, stops cleanly on SIGTERM, and the transcript has both messages")
    func serveAnswerStopAndTranscript() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("x.sqlite")
        let server = try await SupportBotCLI.startServer(["--db", db], output: folder.url)
        let port = try server.port("chat")
        #expect(port > 0)

        let client = try await LineClient.connect(port: port)
        let welcome = try #require(try await client.next())
        #expect(welcome["type"] as? String == "welcome")
        let session = try #require(welcome["session"] as? String)
        try await client.send("where is my order")
        let reply = try #require(try await client.next())
        #expect(reply["type"] as? String == "reply")
        #expect(reply["action"] as? String == "answer")
        #expect(reply["intent"] as? String == "orders.track")
        let replyText = try #require(reply["text"] as? String)

        // The same binary serves browsers: the demo page, and the chat over WebSocket.
        let webPort = try server.port("web")
        let page = try await HTTPExchange.get(port: webPort, "/")
        #expect(page.status == 200)
        #expect(page.body.contains("widget.js"))
        let browser = try await LineClient.connectWebSocket(port: webPort, origin: "http://127.0.0.1:\(webPort)")
        _ = try await browser.next(type: "welcome")
        #expect(try await browser.ask("where is my order")["intent"] as? String == "orders.track")

        #expect(kill(server.process.processIdentifier, SIGTERM) == 0)
        // Open connections, TCP and WebSocket, are told, then closed.
        if let notice = try await client.next() {
            #expect(notice["code"] as? String == "shutting_down", "\(notice)")
        }
        let notice = try #require(try await browser.next(), "the WebSocket closed without a word")
        #expect(notice["code"] as? String == "shutting_down", "\(notice)")
        #expect(try await browser.next() == nil)
        let finished = try await server.running.wait(timeout: SupportBotCLI.commandTimeout)
        #expect(finished, "still running \(SupportBotCLI.commandTimeout) after SIGTERM")
        #expect(server.process.terminationReason == .exit, "ended by signal \(server.process.terminationStatus)")
        #expect(server.process.terminationStatus == 0, "\(server.stderr)")
        #expect(server.stderr.contains("SupportBot stopped"), "\(server.stderr)")
        await client.close()
        await browser.close()

        let transcript = try await SupportBotCLI.run(["transcript", session, "--db", db, "--json"], folder: folder)
        #expect(transcript.status == 0, "\(transcript.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(transcript.stdout.utf8)) as? [String: Any],
                                  "not JSON: \(transcript.stdout)")
        #expect(object["session"] as? String == session)
        let messages = try #require(object["messages"] as? [[String: Any]])
        #expect(messages.map { $0["from"] as? String } == ["customer", "bot"], "\(messages)")  // this session only
        #expect(messages.first?["text"] as? String == "where is my order")
        #expect(messages.last?["text"] as? String == replyText)
        #expect(messages.last?["intent"] as? String == "orders.track")
        #expect(messages.last?["action"] as? String == "answer")
    }

    @Test("transcript of an unknown session exits non-zero with a clear message")
    func transcriptUnknownSession() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("x.sqlite")
        // A real (empty) database: start the server once and stop it.
        let server = try await SupportBotCLI.startServer(["--db", db], output: folder.url)
        #expect(try await server.stop())
        #expect(FileManager.default.fileExists(atPath: db))

        let result = try await SupportBotCLI.run(["transcript", "s-nope", "--db", db], folder: folder)
        #expect(result.exitedNormally)
        #expect(result.status != 0)
        let errors = result.stderrLines.filter { $0.hasPrefix("Error:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains("s-nope") == true, "\(result.stderr)")
        #expect(result.stdout.isEmpty)

        let missing = try await SupportBotCLI.run(["transcript", "s-nope", "--db", folder.path("none.sqlite")], folder: folder)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--db"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("none.sqlite")))
    }
}
