import Foundation
import Testing
@testable import SupportBotCore
@testable import SupportBotServer
import SupportBotStore

/// End-to-end: the real server on a real socket, the real SQLite file behind it.
@Suite(.timeLimit(.minutes(2))) struct ChatProtocolTests {
    @Test func welcomeThenAnswerWithTypoAndSuggestions() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        let welcome = try #require(try await client.next())
        #expect(welcome["type"] as? String == "welcome")
        #expect((welcome["session"] as? String)?.hasPrefix("s-") == true)
        #expect(welcome["kb_version"] as? Int == 1)
        #expect((welcome["text"] as? String)?.contains("Test Shop") == true)

        let reply = try await client.ask("wher is my packge")
        #expect(reply["type"] as? String == "reply")
        #expect(reply["action"] as? String == "answer")
        #expect(reply["intent"] as? String == "orders.track")
        #expect((reply["confidence"] as? Double ?? 0) >= MatchingConfig().answerThreshold)
        #expect(reply["kb_version"] as? Int == 1)
        #expect((reply["text"] as? String)?.contains("parcel") == true)
        let suggestions = try #require(reply["suggestions"] as? [[String: Any]])
        #expect(suggestions.first?["intent"] as? String == "orders.late")
        #expect((reply["options"] as? [Any])?.isEmpty == true)
        await client.close()
        await running.stop()
    }

    @Test("a welcome writes nothing: the chat is stored with its first exchange, and can be resumed from then on")
    func welcomeWritesNothing() async throws {
        let running = try await RunningServer.start()
        let idle = try await running.connect()
        let idleSession = try #require(try await idle.next()?["session"] as? String)
        await idle.close()
        #expect(try await running.database.session(id: idleSession) == nil)

        let client = try await running.connect()
        let session = try #require(try await client.next()?["session"] as? String)
        _ = try await client.ask("where is my order")
        let stored = try #require(try await running.database.session(id: session))
        #expect(try await running.database.transcript(sessionID: session).map(\.text).first == "where is my order")
        _ = try await client.ask("thanks")
        #expect(try await running.database.session(id: session)?.createdAt == stored.createdAt)
        await client.close()

        let back = try await running.connect()
        _ = try await back.next()
        try await back.send(json: ["type": "hello", "session": session])
        #expect(try await back.next()?["resumed"] as? Bool == true)
        try await back.send(json: ["type": "hello", "session": idleSession])
        #expect(try await back.next()?["code"] as? String == "unknown_session")
        await back.close()
        await running.stop()
    }

    @Test func plainLineIsASay() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        try await client.send("i want to return my boots")
        let reply = try #require(try await client.next())
        #expect(reply["intent"] as? String == "returns.start")
        await client.close()
        await running.stop()
    }

    @Test func clarifyThenChooseByNumberAndByMessage() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        let clarify = try await client.ask("gift card")
        #expect(clarify["action"] as? String == "clarify")
        let options = try #require(clarify["options"] as? [[String: Any]])
        try #require(options.count >= 2)
        #expect(options.map { $0["n"] as? Int } == Array(1...options.count).map { Optional($0) })
        let titles = options.compactMap { $0["title"] as? String }
        #expect(Set(titles).isSuperset(of: ["Buy a gift card", "Use a gift card"]))
        for title in titles { #expect((clarify["text"] as? String)?.contains(title) == true) }

        try await client.send(json: ["type": "choose", "option": 2])
        let chosen = try #require(try await client.next())
        #expect(chosen["action"] as? String == "answer")
        #expect(chosen["intent"] as? String == options[1]["intent"] as? String)

        _ = try await client.ask("gift card")
        let typed = try await client.ask("the first one")
        #expect(typed["intent"] as? String == options[0]["intent"] as? String)

        try await client.send(json: ["type": "choose", "option": 1])
        let nothingOpen = try #require(try await client.next())
        #expect(nothingOpen["action"] as? String == "fallback", "\(nothingOpen)")
        await client.close()
        await running.stop()
    }

    @Test func fallbackSaysSoPlainly() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        let first = try await client.ask("what is the weather on mars tomorrow")
        #expect(first["action"] as? String == "fallback")
        #expect(first["intent"] is NSNull)
        #expect((first["text"] as? String)?.contains("other words") == true)
        let second = try await client.ask("purple elephants dancing")
        #expect(second["action"] as? String == "fallback")
        #expect((second["text"] as? String)?.contains("help@test.example") == true)
        await client.close()
        await running.stop()
    }

    @Test func followUpOnlyRightAfterItsParent() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        let before = try await client.ask("how long does that take")
        #expect(before["intent"] as? String != "returns.how_long")
        _ = try await client.ask("i want to return an item")
        let after = try await client.ask("how long does that take")
        #expect(after["action"] as? String == "answer")
        #expect(after["intent"] as? String == "returns.how_long")
        await client.close()
        await running.stop()
    }

    @Test func resumeCarriesSessionHistoryAndContext() async throws {
        let running = try await RunningServer.start()
        let first = try await running.connect()
        let welcome = try #require(try await first.next())
        let session = try #require(welcome["session"] as? String)
        _ = try await first.ask("start a return")
        await first.close()

        let second = try await running.connect()
        let fresh = try #require(try await second.next())
        #expect(fresh["session"] as? String != session)
        try await second.send(json: ["type": "hello", "session": session])
        let resumed = try #require(try await second.next())
        #expect(resumed["type"] as? String == "welcome")
        #expect(resumed["session"] as? String == session)
        #expect(resumed["resumed"] as? Bool == true)
        let history = try #require(resumed["history"] as? [[String: Any]])
        #expect(history.map { $0["from"] as? String } == ["customer", "bot"])
        #expect(history.first?["text"] as? String == "start a return")
        // The context came back too: the follow-up is understood.
        let followUp = try await second.ask("how long does that take")
        #expect(followUp["intent"] as? String == "returns.how_long")
        let stored = try await running.database.transcript(sessionID: session)
        #expect(stored.count == 4)
        await second.close()
        await running.stop()
    }

    @Test("a session id with a NUL or other junk after it does not resume the session it starts with (D9)")
    func sessionIDWithJunkIsRefused() async throws {
        let running = try await RunningServer.start()
        let first = try await running.connect()
        let session = try await first.welcomed()
        _ = try await first.ask("start a return")
        await first.close()
        let second = try await running.connect()
        _ = try await second.welcomed()
        for junk in ["\u{0000}junk", "\u{0000}", " ", "\n", "é"] {
            try await second.send(json: ["type": "hello", "session": session + junk])
            let error = try await second.next(type: "error")
            #expect(error["code"] as? String == "invalid_field", "\(junk.unicodeScalars.map(\.value))")
            #expect(!"\(error)".contains("junk"))
        }
        try await second.send(json: ["type": "hello", "session": session])
        #expect(try await second.next(type: "welcome")["resumed"] as? Bool == true)
        await second.close()
        await running.stop()
    }

    @Test func unknownSessionIsAnErrorAndTheChatGoesOn() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        try await client.send(json: ["type": "hello", "session": "s-doesnotexist"])
        let error = try #require(try await client.next())
        #expect(error["type"] as? String == "error")
        #expect(error["code"] as? String == "unknown_session")
        let reply = try await client.ask("track my order")
        #expect(reply["intent"] as? String == "orders.track")
        await client.close()
        await running.stop()
    }

    @Test(arguments: [
        ("{\"type\":\"say\",", "bad_json"),
        ("{\"type\":\"dance\"}", "unknown_type"),
        ("{\"text\":\"hi\"}", "missing_field"),
        ("{\"type\":\"say\"}", "missing_field"),
        ("{\"type\":\"choose\"}", "missing_field"),
        ("{\"type\":\"hello\"}", "missing_field"),
        ("{\"type\":\"rate\"}", "missing_field"),
        ("{\"type\":\"say\",\"text\":42}", "invalid_field"),
        ("{\"type\":\"choose\",\"option\":\"two\"}", "invalid_field"),
        ("{\"type\":\"choose\",\"option\":true}", "invalid_field"),
        ("{\"type\":\"rate\",\"score\":9}", "invalid_field"),
        ("[1,2,3]", "say-not-json"),
    ])
    func badMessagesGetAnErrorAndTheConnectionStaysUsable(line: String, code: String) async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        try await client.send(line)
        let error = try #require(try await client.next())
        if code == "say-not-json" {
            #expect(error["type"] as? String == "reply")
        } else {
            #expect(error["type"] as? String == "error")
            #expect(error["code"] as? String == code)
            #expect((error["message"] as? String)?.isEmpty == false)
        }
        try await client.send(json: ["type": "ping"])
        let pong = try #require(try await client.next())
        #expect(pong["type"] as? String == "pong")
        await client.close()
        await running.stop()
    }

    @Test func invalidUTF8IsAnError() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        _ = try await client.next()
        try await client.sendRaw(Array("{\"type\":\"say\",\"text\":\"".utf8) + [0xC3, 0x28, 0xFF] + Array("\"}\n".utf8))
        let error = try #require(try await client.next())
        #expect(error["code"] as? String == "bad_utf8")
        let reply = try await client.ask("track my order")
        #expect(reply["intent"] as? String == "orders.track")
        await client.close()
        await running.stop()
    }

    @Test func tooLongLineIsRefusedAndClosedWithoutHurtingOthers() async throws {
        let running = try await RunningServer.start { $0.maxLineBytes = 200 }
        let bystander = try await running.connect()
        _ = try await bystander.next()
        let client = try await running.connect()
        _ = try await client.next()
        // Exactly at the limit is fine.
        try await client.send(String(repeating: "a", count: 200))
        #expect(try await client.next()?["type"] as? String == "reply")
        // One byte more, even without a newline, is not.
        try await client.sendRaw(Array(repeating: UInt8(ascii: "b"), count: 5000))
        let error = try #require(try await client.next())
        #expect(error["code"] as? String == "line_too_long")
        #expect(try await client.next() == nil)
        let reply = try await bystander.ask("where is my order")
        #expect(reply["intent"] as? String == "orders.track")
        await client.close()
        await bystander.close()
        await running.stop()
    }

    @Test func serverFullWhenTooManyConnections() async throws {
        let running = try await RunningServer.start { $0.maxConnections = 2 }
        let a = try await running.connect()
        let b = try await running.connect()
        #expect(try await a.next()?["type"] as? String == "welcome")
        #expect(try await b.next()?["type"] as? String == "welcome")
        let c = try await running.connect()
        let full = try #require(try await c.next())
        #expect(full["code"] as? String == "server_full")
        #expect(try await c.next() == nil)
        await a.close()
        // Room again once someone leaves.
        var admitted = false
        for _ in 0..<50 where !admitted {
            let d = try await running.connect()
            admitted = try await d.next()?["type"] as? String == "welcome"
            await d.close()
            if !admitted { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(admitted)
        await b.close()
        await running.stop()
    }

    @Test func rateLimitedWhenFlooding() async throws {
        let running = try await RunningServer.start {
            $0.rateBurst = 3
            $0.ratePerSecond = 0.5
        }
        let client = try await running.connect()
        _ = try await client.next()
        for _ in 0..<5 { try await client.send(json: ["type": "ping"]) }
        var codes: [String] = []
        for _ in 0..<5 {
            let line = try #require(try await client.next())
            codes.append((line["code"] as? String) ?? (line["type"] as? String ?? "?"))
        }
        #expect(codes == ["pong", "pong", "pong", "rate_limited", "rate_limited"])
        await client.close()
        await running.stop()
    }

    @Test func idleConnectionsAreClosedWithAReason() async throws {
        let running = try await RunningServer.start { $0.idleTimeoutSeconds = 1 }
        let client = try await running.connect()
        _ = try await client.next()
        let idle = try #require(try await client.next(timeout: .seconds(30)))
        #expect(idle["code"] as? String == "idle_timeout")
        #expect(try await client.next() == nil)
        await running.stop()
    }

    @Test func byeClosesTheSessionAndRateIsStored() async throws {
        let running = try await RunningServer.start()
        let client = try await running.connect()
        let session = try #require(try await client.next()?["session"] as? String)
        _ = try await client.ask("hello")
        try await client.send(json: ["type": "rate", "score": 5, "comment": "Quick and kind"])
        let rated = try #require(try await client.next())
        #expect(rated["type"] as? String == "rated")
        try await client.send(json: ["type": "bye"])
        #expect(try await client.next()?["type"] as? String == "bye")
        #expect(try await client.next() == nil)
        let stored = try #require(try await running.database.session(id: session))
        #expect(stored.closedAt != nil)
        let transcript = try await running.database.transcript(sessionID: session)
        #expect(transcript.last?.action == .rate)
        #expect(transcript.last?.text.contains("5") == true)
        await running.stop()
    }
}

@Suite("A rating typed as a message")
struct TypedRatingTests {
    @Test("a number from 1 to 5 first, then maybe a comment after a comma or dash", arguments: [
        ("5", 5, nil), ("4/5", 4, nil), ("3 out of 5", 3, nil), ("5 stars", 5, nil), ("5!", 5, nil),
        ("2, took too long", 2, "took too long"), ("5 - thanks Sam!", 5, "thanks Sam!"),
    ] as [(String, Int, String?)])
    func ratings(text: String, score: Int, comment: String?) {
        let rating = CustomerSession.typedRating(text)
        #expect(rating?.score == score)
        #expect(rating?.comment == comment)
    }

    @Test("other messages are not ratings", arguments: [
        "5 pairs of socks", "10", "0", "6", "where is my order", "55", "3-pack socks in stock?", "1.5 kg parcel cost?",
    ])
    func notRatings(text: String) {
        #expect(CustomerSession.typedRating(text) == nil)
    }
}
