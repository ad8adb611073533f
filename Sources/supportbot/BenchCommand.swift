import ArgumentParser
import Foundation
import SupportBotCore

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed and memory (use a release build: swift build -c release).",
        subcommands: [BenchMatch.self, BenchServer.self, BenchIdle.self, BenchAbuse.self])
}

/// Prints a JSON object (keys sorted, indented) for `--json`.
enum JSONOutput {
    static func print(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

/// Resident memory of this process, from /proc (Linux).
enum ProcessMemory {
    static func residentKiB(pid: Int32? = nil) -> Int? {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1])
        }
        return nil
    }
}

/// Prints a benchmark's figures as an aligned table or as one JSON object.
struct BenchOutput {
    var rows: [(label: String, value: String)] = []
    var json: [String: Any] = [:]

    mutating func add(_ label: String, _ value: String, key: String? = nil, _ number: Any? = nil) {
        rows.append((label, value))
        if let key, let number { json[key] = number }
    }

    func print(asJSON: Bool) throws {
        if asJSON {
            try JSONOutput.print(json)
            return
        }
        let width = rows.map(\.label.count).max() ?? 0
        for row in rows { Swift.print(row.label.padding(toLength: width + 2, withPad: " ", startingAt: 0) + row.value) }
    }
}

struct BenchMatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Build the engine and time matching every test message (no sockets, no database).")

    @OptionGroup var knowledge: KnowledgeOptions

    @Option(help: "Build from this CSV (text,label) instead of the knowledge base, e.g. ../shared/datasets/banking77/train.csv.")
    var train: String?

    @Option(help: "Messages to match (CSV text,label). Default: the test.csv next to --train, or every training example.")
    var test: String?

    @Option(help: "Passes over the test messages; the first warms up and is not counted.")
    var passes: Int = 3

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard passes >= 2 else { throw ValidationError("--passes must be at least 2 (one warms up).") }
        if test != nil && train == nil { throw ValidationError("--test needs --train.") }
    }

    func run() throws {
        let intents: [Intent]
        var knowledgeBase: KnowledgeBase?
        var messages: [String]
        if let train {
            intents = DatasetEvaluation.intents(from: try LabelledFile.read(train))
            let sibling = ((train as NSString).deletingLastPathComponent as NSString).appendingPathComponent("test.csv")
            if let test {
                messages = try LabelledFile.read(test).map(\.text)
            } else if sibling != train, FileManager.default.fileExists(atPath: sibling) {
                messages = try LabelledFile.read(sibling).map(\.text)
            } else {
                messages = intents.flatMap(\.examples)
            }
        } else {
            let loaded = try knowledge.loadKnowledgeBase()
            knowledgeBase = loaded
            intents = loaded.intents
            messages = intents.flatMap(\.examples)
        }
        guard !messages.isEmpty else { throw UserFacingError("There are no messages to match.") }

        let before = ProcessMemory.residentKiB() ?? 0
        let clock = ContinuousClock()
        var engine: SupportEngine?
        let build = clock.measure {
            let base = knowledgeBase ?? KnowledgeBase(intents: intents)
            engine = SupportEngine(knowledgeBase: base, version: 1)
            // As `serve` does before its first customer: the mood models learn the shop's questions.
            engine?.moodDetector.prepareModels()
        }
        let after = ProcessMemory.residentKiB() ?? 0
        guard let engine else { return }

        var timings: [Double] = []
        timings.reserveCapacity(messages.count * (passes - 1))
        for pass in 0..<passes {
            for message in messages {
                var context = DialogueContext()
                let elapsed = clock.measure { _ = engine.reply(to: message, context: &context) }
                if pass > 0 { timings.append(elapsed.microseconds) }
            }
        }
        let latency = LatencySummary(timings)
        var output = BenchOutput()
        output.add("engine", train.map { "from \($0)" } ?? "knowledge base (\(knowledge.intents), \(knowledge.knowledge))")
        output.add("intents / examples", "\(intents.count) / \(intents.reduce(0) { $0 + $1.examples.count })",
                   key: "examples", intents.reduce(0) { $0 + $1.examples.count })
        output.add("messages matched", "\(messages.count) × \(passes - 1) passes", key: "messages", timings.count)
        output.add("build", String(format: "%.0f ms", build.milliseconds), key: "build_ms", build.milliseconds.rounded())
        output.add("per message p50", String(format: "%.0f µs", latency.p50), key: "match_p50_us", latency.p50.rounded())
        output.add("per message p99", String(format: "%.0f µs", latency.p99), key: "match_p99_us", latency.p99.rounded())
        output.add("per message max", String(format: "%.0f µs", latency.max), key: "match_max_us", latency.max.rounded())
        output.add("memory (resident growth while building)", "\((after - before) / 1024) MiB",
                   key: "engine_rss_mib", (after - before) / 1024)
        output.add("memory (resident total)", "\(after / 1024) MiB", key: "rss_mib", after / 1024)
        try output.print(asJSON: json)
    }
}
