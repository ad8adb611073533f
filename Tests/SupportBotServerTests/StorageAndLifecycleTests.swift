import Foundation
import Testing
@testable import SupportBotCore
@testable import SupportBotServer
import SupportBotStore

@Suite(.timeLimit(.minutes(2))) struct StorageAndLifecycleTests {
    @Test func everyMessageIsStoredWithItsDetailsAndMasked() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        let session = try #require(try await client.next()?["session"] as? String)
        _ = try await client.ask("where is my order? mail me at jo.bloggs@example.com or call +44 7700 900123")
        _ = try await client.ask("gift card")
        try await client.send(json: ["type": "choose", "option": 1])
        _ = try await client.next()
        let entries = try await running.database.transcript(sessionID: session)
        #expect(entries.count == 6)
        #expect(entries.map(\.speaker) == [.customer, .bot, .customer, .bot, .customer, .bot])
        #expect(entries[0].text.contains("[email]"))
        #expect(entries[0].text.contains("[phone]"))
        #expect(!entries[0].text.contains("jo.bloggs"))
        #expect(entries[1].intent == "orders.track")
        #expect(entries[1].action == .answer)
        #expect((entries[1].confidence ?? 0) > 0)
        #expect(entries[3].action == .clarify)
        #expect(entries.allSatisfy { $0.kbVersion == 1 })
        await client.close()
        await running.stop()
    }

    @Test func aNewKnowledgeVersionIsUsedForTheNextReply() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        #expect(try await client.ask("track my order")["kb_version"] as? Int == 1)
        running.engine.swap(to: try FixtureKnowledge.engine(version: 2))
        let reply = try await client.ask("track my order")
        #expect(reply["kb_version"] as? Int == 2)
        #expect(reply["intent"] as? String == "orders.track")
        await client.close()
        await running.stop()
    }

    @Test func gracefulShutdownTellsIdleClientsAndStopsAccepting() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        let session = try #require(try await client.next()?["session"] as? String)
        _ = try await client.ask("track my order")
        #expect(running.server.isAccepting)
        await running.server.stopAccepting()
        let notice = try #require(try await client.next())
        #expect(notice["code"] as? String == "shutting_down")
        #expect(try await client.next() == nil)
        _ = try? await running.task.value
        // The listening socket is closed. (Connecting to its port is no test: tests run side by side, and another
        // test's server may have been given the same port since.)
        #expect(!running.server.isAccepting)
        #expect(try await running.database.transcript(sessionID: session).count == 2)
        await running.stop()
    }

    @Test func manyClientsAtOnceLoseNothing() async throws {
        let running = try await RunningServer.start()
        let clients = 40, messages = 10
        let sessions = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    let client = try await running.connect()
                    let session = try #require(try await client.next()?["session"] as? String)
                    for i in 0..<messages {
                        let reply = try await client.ask(i % 2 == 0 ? "where is my order" : "start a return")
                        #expect(reply["type"] as? String == "reply")
                    }
                    await client.close()
                    return session
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(sessions).count == clients)
        #expect(try await running.database.messageCount() == clients * messages * 2)
        await running.stop()
    }
}
