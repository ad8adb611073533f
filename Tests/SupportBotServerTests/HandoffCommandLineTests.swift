import Foundation
import SupportBotCore
@testable import SupportBotServer
import Testing

/// Runs `supportbot` in `folder` with `input` on its standard input (see `SupportBotCLI.Running`).
func runWithInput(_ arguments: [String], input: String, folder: TemporaryDirectory,
                  timeout: Duration = SupportBotCLI.commandTimeout,
                  sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> SupportBotCLI.Outcome {
    let inputURL = folder.url.appendingPathComponent("\(UUID().uuidString).in")
    try input.write(to: inputURL, atomically: true, encoding: .utf8)
    return try await SupportBotCLI.run(arguments, in: folder.url, folder: folder, input: inputURL, timeout: timeout,
                                       sourceLocation: sourceLocation)
}

/// The one `Error:` line a failed command prints.
private func errorLine(_ outcome: SupportBotCLI.Outcome, sourceLocation: Testing.SourceLocation = #_sourceLocation)
    -> String {
    let errors = outcome.stderrLines.filter { $0.hasPrefix("Error:") }
    #expect(errors.count == 1, "\(outcome.stderr)", sourceLocation: sourceLocation)
    return errors.first ?? ""
}

@Suite("supportbot mood", .timeLimit(.minutes(10)))
struct MoodCommandLineTests {
    // Run in an empty folder: no knowledge/_settings.yml, so the threshold is the default 0.5.

    @Test("an angry message prints 'angry' and its reasons")
    func angryMessage() async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(["mood", "this is a joke, where is my refund?!"], in: folder.url,
                                                 folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let verdict = try #require(lines.first)
        #expect(verdict.contains("angry"), "\(result.stdout)")
        #expect(verdict.hasSuffix("this is a joke, where is my refund?!"), "\(result.stdout)")
        #expect(lines.dropFirst().contains { $0.contains("\"this is a joke\"") }, "\(result.stdout)")
    }

    @Test("a calm message says calm")
    func calmMessage() async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(["mood", "is the XL size in stock"], in: folder.url, folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("0.00 calm"), "\(result.stdout)")
    }

    @Test("--json prints one object with the scores and reasons")
    func json() async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(["mood", "--json", "this is a joke, where is my refund?!"],
                                                 in: folder.url, folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "not JSON: \(result.stdout)")
        #expect(object["angry"] as? Bool == true)
        #expect(object["text"] as? String == "this is a joke, where is my refund?!")
        #expect(((object["conversation"] as? Double) ?? 0) >= 0.5)
        let reasons = try #require(object["reasons"] as? [[String: Any]])
        #expect(reasons.contains { $0["evidence"] as? String == "this is a joke" }, "\(reasons)")
    }

    @Test("standard input: one result per line, scored as one conversation")
    func standardInput() async throws {
        let folder = try TemporaryDirectory()
        let result = try await runWithInput(["mood"], input: "where is my parcel?? still nothing\n\nwhere is my parcel?? still nothing\n",
                                            folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let verdicts = result.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }
        #expect(verdicts.count == 2, "\(result.stdout)")
        // The second line is the same message again: the conversation remembers the first.
        #expect(result.stdout.contains("same message again"), "\(result.stdout)")
    }

    @Test("--eval prints precision and recall for a labelled file")
    func eval() async throws {
        let folder = try TemporaryDirectory()
        let file = SupportBotCLI.repositoryRoot.appendingPathComponent("Tests/Fixtures/mood/messages.csv").path
        let result = try await SupportBotCLI.run(["mood", "--eval", file], in: folder.url, folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("messages:") && $0.contains("345") }, "\(result.stdout)")
        let precision = try #require(lines.first { $0.hasPrefix("precision:") }, "\(result.stdout)")
        let recall = try #require(lines.first { $0.hasPrefix("recall:") }, "\(result.stdout)")
        let value = { (line: Substring) in Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1 }
        #expect(value(precision) >= 0.9, "\(precision)")
        #expect(value(recall) >= 0.85, "\(recall)")
    }

    @Test("--eval --level upset measures at the apology threshold")
    func evalAtTheUpsetLevel() async throws {
        let folder = try TemporaryDirectory()
        let file = SupportBotCLI.repositoryRoot.appendingPathComponent("Tests/Fixtures/mood/fresh.csv").path
        let upset = try await SupportBotCLI.run(["mood", "--eval", file, "--level", "upset"], in: folder.url, folder: folder)
        #expect(upset.status == 0, "\(upset.stderr)")
        #expect(upset.stdout.contains("threshold:  0.30"), "\(upset.stdout)")
        let refused = try await SupportBotCLI.run(["mood", "hi", "--level", "upset"], in: folder.url, folder: folder)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--level goes with --eval"), "\(refused.stderr)")
    }

    @Test("--eval with a label that is not 0 or 1 exits non-zero and names the row")
    func evalBadLabel() async throws {
        let folder = try TemporaryDirectory()
        try folder.write("labels.csv", "text,angry\nhello,0\n\"where is it, seriously\",maybe\n")
        let result = try await SupportBotCLI.run(["mood", "--eval", folder.path("labels.csv")], in: folder.url,
                                                 folder: folder)
        #expect(result.exitedNormally)
        #expect(result.status != 0)
        let error = errorLine(result)
        #expect(error.contains("row 3"), "\(result.stderr)")
        #expect(error.contains("maybe"), "\(result.stderr)")
        #expect(!result.stdout.contains("precision"), "\(result.stdout)")
    }

    @Test("with no intents folder, the threshold comes from knowledge/_settings.yml; a bad one is named")
    func thresholdFromSettings() async throws {
        let folder = try TemporaryDirectory()
        try folder.write("knowledge/_settings.yml", "handoff:\n  mood_threshold: 0.95\n")
        let text = "this is a joke, where is my refund?!"
        let calmer = try await SupportBotCLI.run(["mood", text], in: folder.url, folder: folder)
        #expect(calmer.status == 0, "\(calmer.stderr)")
        #expect(calmer.stdout.split(separator: "\n").first?.contains(" upset ") == true, "\(calmer.stdout)")
        let flag = try await SupportBotCLI.run(["mood", "--threshold", "0.5", text], in: folder.url, folder: folder)
        #expect(flag.stdout.split(separator: "\n").first?.contains("angry") == true, "\(flag.stdout)")

        try folder.write("knowledge/_settings.yml", "handoff:\n  mood_threshold: 7\n")
        let bad = try await SupportBotCLI.run(["mood", text], in: folder.url, folder: folder)
        #expect(bad.status != 0 && bad.exitedNormally)
        #expect(errorLine(bad).contains("_settings.yml"), "\(bad.stderr)")
    }

    @Test("--threshold must be above 0 and at most 1", arguments: ["0", "1.5", "-0.2"])
    func badThreshold(threshold: String) async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(["mood", "--threshold", threshold, "hello"], in: folder.url,
                                                 folder: folder)
        #expect(result.exitedNormally)
        #expect(result.status != 0)
        #expect(errorLine(result).contains("--threshold"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
    }
}

@Suite("supportbot agents and queue", .timeLimit(.minutes(10)))
struct AgentsCommandLineTests {
    /// Every byte SQLite keeps for this database: the main file and its WAL and shared-memory files.
    private func databaseBytes(_ path: String) -> Data {
        var bytes = Data()
        for suffix in ["", "-wal", "-shm"] {
            if let data = FileManager.default.contents(atPath: path + suffix) { bytes.append(data) }
        }
        return bytes
    }

    @Test("add prints a token once and stores only its hash; list, duplicate and remove")
    func addListRemove() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("desk.sqlite")

        let added = try await SupportBotCLI.run(["agents", "add", "Sam", "--skills", "Billing,shipping", "--db", db],
                                                in: folder.url, folder: folder)
        #expect(added.status == 0, "\(added.stderr)")
        let tokenLine = try #require(added.stdout.split(separator: "\n").first { $0.hasPrefix("Token") },
                                     "\(added.stdout)")
        let token = try #require(tokenLine.split(separator: " ").last.map(String.init))
        #expect(token.hasPrefix("sbt_") && token.count >= 30, "\(token)")

        let bytes = databaseBytes(db)
        #expect(!bytes.isEmpty)
        #expect(bytes.range(of: Data(token.utf8)) == nil, "the token itself is stored in the database")
        #expect(bytes.range(of: Data(SHA256.hex(token).utf8)) != nil, "the token's SHA-256 is not in the database")

        let listed = try await SupportBotCLI.run(["agents", "list", "--db", db], in: folder.url, folder: folder)
        #expect(listed.status == 0, "\(listed.stderr)")
        let sam = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix("Sam") }, "\(listed.stdout)")
        #expect(sam.contains("billing, shipping"), "\(sam)")
        #expect(!listed.stdout.contains(token))

        for name in ["Sam", "sam"] {
            let again = try await SupportBotCLI.run(["agents", "add", name, "--db", db], in: folder.url, folder: folder)
            #expect(again.exitedNormally)
            #expect(again.status != 0)
            #expect(errorLine(again).contains("already exists"), "\(again.stderr)")
            #expect(!again.stdout.contains("Token"), "\(again.stdout)")
        }

        let removed = try await SupportBotCLI.run(["agents", "remove", "Sam", "--db", db], in: folder.url, folder: folder)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.contains("Removed Sam"), "\(removed.stdout)")

        let listedAfter = try await SupportBotCLI.run(["agents", "list", "--db", db], in: folder.url, folder: folder)
        #expect(!listedAfter.stdout.contains("Sam"), "\(listedAfter.stdout)")

        let removedAgain = try await SupportBotCLI.run(["agents", "remove", "Sam", "--db", db], in: folder.url,
                                                       folder: folder)
        #expect(removedAgain.exitedNormally)
        #expect(removedAgain.status != 0)
        let error = errorLine(removedAgain)
        #expect(error.contains("no agent called \"Sam\""), "\(removedAgain.stderr)")
    }

    @Test("queue on a database without tickets says no one is waiting")
    func emptyQueue() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("desk.sqlite")
        let added = try await SupportBotCLI.run(["agents", "add", "Ana", "--db", db], in: folder.url, folder: folder)
        #expect(added.status == 0, "\(added.stderr)")

        let queue = try await SupportBotCLI.run(["queue", "--db", db], in: folder.url, folder: folder)
        #expect(queue.status == 0, "\(queue.stderr)")
        #expect(queue.stdout.contains("No one is waiting"), "\(queue.stdout)")

        let all = try await SupportBotCLI.run(["queue", "--all", "--db", db], in: folder.url, folder: folder)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("No tickets yet"), "\(all.stdout)")
    }

    @Test("queue and agents list with a missing --db file fail clearly and create nothing",
          arguments: [["queue"], ["agents", "list"], ["agents", "remove", "Sam"]])
    func missingDatabase(command: [String]) async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("missing.sqlite")
        let result = try await SupportBotCLI.run(command + ["--db", db], in: folder.url, folder: folder)
        #expect(result.exitedNormally)
        #expect(result.status != 0)
        let error = errorLine(result)
        #expect(error.contains("no database"), "\(result.stderr)")
        #expect(error.contains("--db"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }
}

@Suite("supportbot agent console", .timeLimit(.minutes(10)))
struct AgentConsoleTests {
    @Test("a person can claim, chat and close from the terminal console; piped commands run in order")
    func consoleJourney() async throws {
        let (running, token) = try await HandoffFixture.startWithSam()
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")

        let folder = try TemporaryDirectory()
        let outcome = try await runWithInput(
            ["agent", "--token", token, "--port", String(running.agentPort)],
            input: "/queue\n/claim\nHello, I'm Sam.\n/note checked the order\n/close answered\n", folder: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("Logged in as Sam"))
        #expect(outcome.stdout.contains("=== Chat #\(ticket)"))
        #expect(outcome.stdout.contains("can i speak to a real person"), "the console shows the transcript")
        #expect(outcome.stdout.contains("Note added to #\(ticket)."))
        #expect(outcome.stdout.contains("Closed #\(ticket)."))

        #expect(try await customer.next(type: "agent")["text"] as? String == "Hello, I'm Sam.")
        #expect(try await customer.next(type: "agent_left")["ask_rating"] as? Bool == true)
        #expect(try await running.database.ticket(id: ticket)?.resolution == "answered")
        await running.stop()
    }

    @Test("a wrong token is refused with a clear message")
    func wrongToken() async throws {
        let running = try await HandoffFixture.start()
        let folder = try TemporaryDirectory()
        let outcome = try await runWithInput(["agent", "--token", "nope", "--port", String(running.agentPort)],
                                             input: "/queue\n", folder: folder)
        #expect(outcome.stdout.contains("token is not right"))
        #expect(!outcome.stdout.contains("Logged in"))
        await running.stop()
    }

    @Test("no server on the port: one clear error and a non-zero exit")
    func noServer() async throws {
        let folder = try TemporaryDirectory()
        let outcome = try await runWithInput(["agent", "--token", "x", "--port", "1"], input: "", folder: folder)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("Can't reach the agent port"))
    }
}
