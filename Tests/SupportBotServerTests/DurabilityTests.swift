import Foundation
import Testing
@testable import SupportBotServer
import SupportBotStore
#if canImport(Glibc)
import Glibc
#endif

/// Exchanges the customers heard back about, so they must be stored.
actor Acknowledged {
    private(set) var exchanges: [(session: String, text: String)] = []
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    func add(session: String, text: String) {
        exchanges.append((session, text))
        let ready = waiters.filter { $0.count <= exchanges.count }
        waiters.removeAll { $0.count <= exchanges.count }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Returns once `count` exchanges in all were acknowledged, or the load stopped (`stop()`).
    func wait(for count: Int) async {
        if exchanges.count >= count || stopped { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }

    private var stopped = false

    /// The load ended by itself: whoever waits is let go.
    func stop() {
        stopped = true
        for waiter in waiters { waiter.continuation.resume() }
        waiters = []
    }

    func restart() { stopped = false }
}

@Suite("Durability: kill -9 under load loses nothing that was acknowledged", .timeLimit(.minutes(10)))
struct DurabilityTests {
    /// `SUPPORTBOT_KILLS` runs a longer version (the time limit above allows about 60 kills on a slow machine).
    static let kills = ProcessInfo.processInfo.environment["SUPPORTBOT_KILLS"].flatMap { Int($0) }.map { max(1, $0) } ?? 10
    static let customers = 4
    /// Ordinary questions, in turn (the same message again and again would read as an upset customer).
    static let questions = ["where is my order", "how much is delivery", "do you sell gift cards",
                            "what are your opening hours", "how do i return something", "can i pay with paypal",
                            "do you deliver to ireland", "how long does a refund take"]

    /// The session of a new connection's welcome; nil if the server is gone first (it is killed at any moment).
    static func welcome(_ client: LineClient) async -> String? {
        guard let line = try? await client.next(timeout: .seconds(120)), line["type"] as? String == "welcome" else {
            return nil
        }
        return line["session"] as? String
    }

    @Test("every acknowledged exchange is stored exactly once across kills; the database stays sound")
    func killNineUnderLoad() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("durable.sqlite")
        let acknowledged = Acknowledged()
        var sent = 0
        for round in 0..<Self.kills {
            let server = try await SupportBotCLI.startServer(
                ["--db", db, "--rate-burst", "100000", "--rate-limit", "100000"], output: folder.url)
            let port = try server.port("chat")
            let before = await acknowledged.exchanges.count
            await acknowledged.restart()
            // Customers send one message after another, each after the reply to the one before, until the server dies.
            let load = Task {
                await withTaskGroup(of: Int.self) { group in
                    for customer in 0..<Self.customers {
                        group.addTask {
                            var count = 0
                            guard var client = try? await LineClient.connect(port: port),
                                  var session = await Self.welcome(client) else { return 0 }
                            sending: while true {
                                let question = Self.questions[(count + customer) % Self.questions.count]
                                let text = "\(question) (customer \(customer), round \(round), message \(count))"
                                count += 1
                                guard (try? await client.send(text)) != nil else { break }
                                // The answer to it (queue updates may come in between): a reply, or a handoff.
                                while true {
                                    guard let line = try? await client.next(timeout: .seconds(120)) else { break sending }
                                    let type = line["type"] as? String
                                    if type == "reply" || type == "handoff" {
                                        await acknowledged.add(session: session, text: text)
                                    }
                                    if type == "reply" { break }
                                    if type == "handoff" {
                                        // Waiting for a person now: carry on as a new customer.
                                        await client.close()
                                        guard let next = try? await LineClient.connect(port: port),
                                              let nextSession = await Self.welcome(next) else { break sending }
                                        (client, session) = (next, nextSession)
                                        break
                                    }
                                    if type == "error" {
                                        Issue.record("error: \(line)")
                                        break sending
                                    }
                                }
                            }
                            await client.close()
                            return count
                        }
                    }
                    var total = 0
                    for await count in group { total += count }
                    await acknowledged.stop()
                    return total
                }
            }
            // Killed while the load is on: once every customer has had a few answers this round.
            await acknowledged.wait(for: before + 20 + round * 3)
            #expect(await acknowledged.exchanges.count >= before + 20, "the load stopped before the kill")
            #expect(kill(server.process.processIdentifier, SIGKILL) == 0)
            _ = try await server.running.wait(timeout: SupportBotCLI.commandTimeout)
            #expect(server.process.terminationReason == .uncaughtSignal)
            sent += await load.value
        }

        let database = try SupportBotDatabase.open(path: db)
        #expect(try await database.integrityCheck() == ["ok"])
        let exchanges = await acknowledged.exchanges
        var lost = 0
        var doubled = 0
        var transcripts: [String: [TranscriptEntry]] = [:]
        for (session, text) in exchanges {
            if transcripts[session] == nil { transcripts[session] = try await database.transcript(sessionID: session) }
            let stored = transcripts[session]!.filter { $0.speaker == .customer && $0.text == text }.count
            if stored == 0 { lost += 1 }
            if stored > 1 { doubled += 1 }
        }
        try database.close()
        print("kill -9: \(Self.kills) kills, \(sent) messages sent, \(exchanges.count) acknowledged, \(lost) lost, "
              + "\(doubled) stored twice")
        #expect(exchanges.count >= Self.kills * 20)
        #expect(lost == 0)
        #expect(doubled == 0)
    }
}
