import Foundation
import Testing
@testable import SupportBotCore
@testable import SupportBotServer
import SupportBotStore

/// Core's seeded generator (SplitMix64): the same seed gives the same lines on every machine.
typealias FuzzRandom = SplitMix64

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Lines a careless or hostile client might send: commands with wrong or odd fields, broken JSON and UTF-8, control
/// characters, long lines, deep nesting, and plain questions with typos and personal data.
enum FuzzLines {
    static let customerTypes = ["say", "choose", "hello", "rate", "ping", "bye", "handoff", "", "SAY", "say ", "quit"]
    static let agentTypes = ["login", "queue", "claim", "say", "note", "transfer", "close", "status", "ping", "bye", "x"]
    static let words = ["where", "is", "my", "order", "refund", "PARCEL", "😡", "ñ", "klarna", "human", "never mind",
                        "1", "yes", "4111 1111 1111 1111", "jo@example.com", "+44 20 7946 0958", "\\u0000", "\"", "\\",
                        "{{shop_name}}", "<script>", "'; drop table session; --", "thanks a lot", "useless"]
    static let fields = ["text", "option", "session", "score", "comment", "token", "ticket", "skill", "agent",
                         "resolution", "status", "type"]

    static func value(_ random: inout FuzzRandom, depth: Int = 0) -> String {
        switch random.below(depth > 3 ? 6 : 9) {
        case 0: return "\"" + sentence(&random) + "\""
        case 1: return String(random.below(2_000_001) - 1_000_000)
        case 2: return random.pick(["true", "false", "null", "1e309", "-0", "3.5", "99999999999999999999999"])
        case 3: return "\"s-" + String(random.next(), radix: 16) + "\""
        case 4: return "\"\(random.pick(["online", "away", "", "billing", "Sam", "1", "\\ud800"]))\""
        case 5: return String(random.below(20))
        case 6: return "[" + (0..<random.below(4)).map { _ in value(&random, depth: depth + 1) }.joined(separator: ",") + "]"
        case 7: return "{" + (0..<random.below(3)).map { _ in "\"\(random.pick(fields))\":" + value(&random, depth: depth + 1) }
            .joined(separator: ",") + "}"
        default: return "\"" + String(repeating: random.pick(["a", "é", "\\n", " "]), count: random.below(300)) + "\""
        }
    }

    static func sentence(_ random: inout FuzzRandom) -> String {
        (0..<(1 + random.below(8))).map { _ in random.pick(words) }.joined(separator: " ")
    }

    static func command(_ random: inout FuzzRandom, types: [String]) -> String {
        var parts = ["\"type\":\"\(random.pick(types))\""]
        for _ in 0..<random.below(4) { parts.append("\"\(random.pick(fields))\":" + value(&random)) }
        if random.chance(10) { parts.append(parts[0]) }  // a key twice
        random.shuffle(&parts)
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// One line as bytes, without its newline.
    static func line(_ random: inout FuzzRandom, types: [String]) -> [UInt8] {
        switch random.below(10) {
        case 0...3: return Array(command(&random, types: types).utf8)
        case 4: return Array(sentence(&random).utf8)
        case 5:  // a command cut short, or with junk after it
            let text = command(&random, types: types)
            return random.chance(50) ? Array(text.utf8.prefix(random.below(text.utf8.count + 1)))
                : Array((text + random.pick(["}", "]", ",", " x", "{}"])).utf8)
        case 6:  // bytes that are not UTF-8, control characters
            return (0..<random.below(40)).map { _ in
                random.chance(30) ? UInt8(random.pick([0x80, 0xC0, 0xFF, 0xED, 0xF5, 0x00, 0x1B, 0x7F, 0x0D]))
                    : UInt8(32 + random.below(95))
            }
        case 7: return Array(String(repeating: "[", count: random.below(2_000)).utf8)  // deep nesting
        // Around the line limit (a line over it closes the connection, so only now and then).
        case 8: return Array(String(repeating: "a", count: random.chance(10) ? 4_000 + random.below(200) : random.below(4_000)).utf8)
        default: return random.chance(50) ? [] : Array(random.pick(["{}", "[]", "null", "\"say\"", "{\"type\":1}"]).utf8)
        }
    }
}

@Suite("Protocol fuzzing: thousands of generated lines on every port, seeded", .serialized, .timeLimit(.minutes(10)))
struct FuzzTests {
    /// `SUPPORTBOT_FUZZ_SEED` repeats a run; without it each run takes a new seed (printed on failure).
    static let seed: UInt64 = ProcessInfo.processInfo.environment["SUPPORTBOT_FUZZ_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 1...UInt64.max / 2)
    static let linesPerPort = ProcessInfo.processInfo.environment["SUPPORTBOT_FUZZ_LINES"].flatMap { Int($0) } ?? 20_000
    static let connectionsPerPort = 4

    /// Sends `count` generated lines, ten at a time, each batch followed by a ping whose answer is waited for (so
    /// every line was read and handled); opens a new connection whenever the server closes one. Returns the lines
    /// sent, the lines the server answered, and how many connections it took.
    private func fuzz(port: Int, count: Int, random: inout FuzzRandom, types: [String],
                      connect: () async throws -> LineClient) async throws -> (sent: Int, answered: Int, connections: Int) {
        var client = try await connect()
        var connections = 1
        var sent = 0
        var answered = 0
        while sent < count {
            var batch: [UInt8] = []
            for _ in 0..<min(10, count - sent) {
                batch += FuzzLines.line(&random, types: types) + [10]
                sent += 1
            }
            batch += Array("{\"type\":\"ping\"}\n".utf8)
            var open = (try? await client.sendRaw(batch)) != nil
            while open {
                guard let line = try? await client.next(timeout: .seconds(60)) else {
                    if ProcessInfo.processInfo.environment["SUPPORTBOT_FUZZ_DEBUG"] != nil {
                        print("no answer on port \(port) after \(sent) lines; batch: \(String(decoding: batch, as: UTF8.self).prefix(2000))")
                    }
                    open = false
                    break
                }
                answered += 1
                if line["type"] as? String == "pong" { break }
            }
            if !open {
                // Closed by the server (a line too long, a bye, too many wrong tokens): carry on on a new one.
                await client.close()
                client = try await connect()
                connections += 1
            }
        }
        await client.close()
        return (sent, answered, connections)
    }

    @Test("no generated line crashes, hangs or corrupts the server; every port answers afterwards")
    func generatedLines() async throws {
        let seed = Self.seed
        let running = try await RunningServer.start(handoff: HandoffFixture.quickGrace, web: true) {
            $0.rateBurst = 1_000_000
            $0.ratePerSecond = 1_000_000
            $0.agentRateBurst = 1_000_000
            $0.agentRatePerSecond = 1_000_000
            $0.maxLineBytes = 4_096
        }
        // One agent per lane (a second login of the same agent closes the first), and Sam for the check afterwards.
        var tokens: [String] = []
        for name in (0..<Self.connectionsPerPort).map({ "Agent \($0)" }) + ["Sam"] {
            let token = AgentToken.generate()
            _ = try await running.database.addAgent(name: name, skills: ["billing"], tokenHash: AgentToken.hash(token),
                                                    at: Date())
            tokens.append(token)
        }
        let token = tokens[Self.connectionsPerPort]
        let laneTokens = tokens
        let perConnection = Self.linesPerPort / Self.connectionsPerPort
        let results = try await withThrowingTaskGroup(of: (String, Int, Int, Int).self) { group in
            for lane in 0..<Self.connectionsPerPort {
                group.addTask {
                    var random = FuzzRandom(seed: seed &+ UInt64(lane))
                    let (sent, answered, connections) = try await fuzz(
                        port: running.port, count: perConnection, random: &random, types: FuzzLines.customerTypes) {
                        try await running.connect()
                    }
                    return ("chat", sent, answered, connections)
                }
                group.addTask {
                    var random = FuzzRandom(seed: seed &+ 1_000 &+ UInt64(lane))
                    let (sent, answered, connections) = try await fuzz(
                        port: running.agentPort, count: perConnection, random: &random, types: FuzzLines.agentTypes) {
                        // Half the agent connections log in first, so the commands reach the desk.
                        if lane % 2 == 0 { return try await running.sendLogin(token: laneTokens[lane]) }
                        return try await LineClient.connect(port: running.agentPort)
                    }
                    return ("agent", sent, answered, connections)
                }
            }
            var all: [(String, Int, Int, Int)] = []
            for try await result in group { all.append(result) }
            return all
        }
        func total(_ port: String, _ value: ((String, Int, Int, Int)) -> Int) -> Int {
            results.filter { $0.0 == port }.reduce(0) { $0 + value($1) }
        }
        let chatLines = total("chat") { $0.1 }, agentLines = total("agent") { $0.1 }
        #expect(chatLines >= Self.linesPerPort && agentLines >= Self.linesPerPort, "seed \(seed)")
        // Most lines get an answer of their own (the rest are blank, or lost when the server closed the connection).
        #expect(total("chat") { $0.2 } > chatLines / 2 && total("agent") { $0.2 } > agentLines / 2, "seed \(seed)")
        print("Fuzzed \(chatLines) customer lines (\(total("chat") { $0.2 }) answers, \(total("chat") { $0.3 }) "
              + "connections) and \(agentLines) agent lines (\(total("agent") { $0.2 }) answers, "
              + "\(total("agent") { $0.3 }) connections); seed \(seed): repeat with SUPPORTBOT_FUZZ_SEED=\(seed)")

        // Every port still answers at once.
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        #expect(try await customer.ask("where is my order")["type"] as? String == "reply", "seed \(seed)")
        let sam = try await running.login(token: token)
        try await sam.send(json: ["type": "ping"])
        _ = try await sam.next(type: "pong")
        let page = try await HTTPExchange.get(port: running.webPort, "/healthz")
        #expect(page.status == 200, "seed \(seed)")
        #expect(try await running.database.integrityCheck() == ["ok"], "seed \(seed)")
        await customer.close()
        await sam.close()
        await running.stop()
    }
}
