import Foundation
import Testing
@testable import SupportBotCore
@testable import SupportBotServer
@testable import SupportBotStore

/// The fixture shop plus two topics that need a person.
enum HandoffFixture {
    static let peopleIntents = """
        - id: contact.human
          title: Talk to a person
          handoff: true
          reply: Please e-mail help@test.example and our team will help.
          tags: [contact]
          examples:
            - i want to talk to a human
            - can i speak to a real person
            - put me through to your team
        - id: billing.dispute
          title: Dispute a charge
          handoff: true
          reply: Please e-mail billing@test.example about the charge.
          tags: [billing]
          examples:
            - i was charged twice
            - dispute a charge on my card
            - wrong amount taken from my card
        """

    static func engine(settings: String? = nil) throws -> SupportEngine {
        var files = FixtureKnowledge.files
        files["intents/people.yml"] = peopleIntents
        if let settings { files["knowledge/_settings.yml"] = settings }
        return SupportEngine(knowledgeBase: try KnowledgeLoader.load(files: files), version: 1)
    }

    /// Settings with no opening hours at all: people are always away.
    static let closedEveryDay = """
        shop_name: Test Shop
        email: help@test.example
        handoff:
          opening_hours:
            every_day: closed
        """

    /// A server on a `ManualClock`, with an agent "Sam" and his token.
    static func startWithSam() async throws -> (RunningServer, String) {
        let running = try await start()
        let token = AgentToken.generate()
        _ = try await running.database.addAgent(name: "Sam", skills: [], tokenHash: AgentToken.hash(token), at: Date())
        return (running, token)
    }

    /// Short grace periods, for servers on the system clock whose tests don't wait for them.
    static var quickGrace: HandoffConfiguration {
        var configuration = HandoffConfiguration()
        configuration.agentGraceSeconds = 0.3
        configuration.customerGraceSeconds = 0.3
        return configuration
    }

    /// A server with the usual grace periods (30 s for agents, 2 minutes for customers) on a `ManualClock`: they
    /// pass only when a test moves time past them (`RunningServer.pass(_:)`).
    static func start(settings: String? = nil, folder: URL? = nil) async throws -> RunningServer {
        try await RunningServer.start(engine: engine(settings: settings), handoff: HandoffConfiguration(), folder: folder,
                                      clock: ManualClock())
    }
}

extension LineClient {
    /// Sends a customer message and waits for the handoff it causes.
    func handOff(_ text: String) async throws -> [String: Any] {
        try await send(json: ["type": "say", "text": text])
        return try await next(type: "handoff")
    }

    func welcomed() async throws -> String {
        try #require(try await next(type: "welcome")["session"] as? String)
    }
}

extension RunningServer {
    var desk: HandoffDesk {
        get throws { try #require(agentServer?.desk, "this server runs without the handoff desk") }
    }

    /// Moves the server's `ManualClock` just past `deadline`, once the desk has set it, so what waits for it happens.
    func pass(_ deadline: HandoffQueue.Deadline) async throws {
        let manual = try #require(clock as? ManualClock, "the server is not on a ManualClock")
        let desk = try desk
        let due = try await withSafetyNet { await desk.whenSet(deadline) }
        manual.advance(by: due.timeIntervalSince(manual.now()) + 1)
    }

    /// A new customer who has just been handed to the line with `text`; returns them and their ticket.
    func customerInLine(_ text: String) async throws -> (LineClient, Int64) {
        let customer = try await connect()
        _ = try await customer.welcomed()
        return (customer, try ticketID(try await customer.handOff(text)))
    }
}

func ticketID(_ line: [String: Any]) throws -> Int64 {
    Int64(try #require(line["ticket"] as? Int, "no ticket in \(line)"))
}

@Suite("Human handoff end to end", .serialized)
struct HandoffTests {
    @Test("angry customer → handoff → agent notified → claim with transcript → both ways → close → rating stored")
    func angryCustomerJourney() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        #expect(try await customer.ask("where is my order")["action"] as? String == "answer")

        let handoff = try await customer.handOff("this is a joke, where is my refund?! useless")
        let ticket = try ticketID(handoff)
        #expect(handoff["reason"] as? String == "angry")
        #expect(["medium-high", "high"].contains(handoff["priority"] as? String ?? ""))
        #expect(handoff["position"] as? Int == 1)
        #expect((handoff["wait_minutes"] as? Int ?? 0) >= 1)
        let text = try #require(handoff["text"] as? String)
        #expect(text.hasPrefix("I'm sorry this happened."))
        #expect(text.contains("ticket number is \(ticket)"))

        let pushed = try await sam.next(type: "ticket_new")
        #expect(try ticketID(pushed) == ticket)
        #expect((pushed["preview"] as? String ?? "").contains("joke"))

        // While waiting, the bot is silent: the message goes to the ticket.
        let received = try await customer.ask("hello?? anyone")
        #expect(received["type"] as? String == "received")

        try await sam.send(json: ["type": "claim"])
        let claimed = try await sam.next(type: "claimed")
        #expect(try ticketID(claimed) == ticket)
        #expect(claimed["reason"] as? String == "angry")
        let transcript = try #require(claimed["transcript"] as? [[String: Any]])
        let said = transcript.compactMap { $0["text"] as? String }
        #expect(said.contains("where is my order"))
        #expect(said.contains("hello?? anyone"))
        // Why, in words: the reason and the mood's evidence, not the rule trace.
        let why = claimed["why_in_words"] as? String ?? ""
        #expect(why.hasPrefix("Upset: ") && why.contains("joke"), "\(why)")
        #expect(!why.contains("→"), "\(why)")
        let mood = try #require(claimed["mood"] as? [String: Any])
        #expect((mood["score"] as? Double ?? 0) >= 0.5)
        #expect(!(mood["reasons"] as? [[String: Any]] ?? []).isEmpty)
        #expect(!(claimed["candidates"] as? [[String: Any]] ?? []).isEmpty)
        #expect(try await customer.next(type: "agent_joined")["agent"] as? String == "Sam")

        try await sam.send(json: ["type": "say", "ticket": ticket, "text": "Hi, I'm Sam. I'll sort out your refund."])
        #expect(try await sam.next(type: "sent")["customer_online"] as? Bool == true)
        let fromAgent = try await customer.next(type: "agent")
        #expect(fromAgent["text"] as? String == "Hi, I'm Sam. I'll sort out your refund.")
        #expect(fromAgent["agent"] as? String == "Sam")

        let ack = try await customer.ask("thank you, it was order 4411")
        #expect(ack["type"] as? String == "received")
        #expect(try await sam.next(type: "customer")["text"] as? String == "thank you, it was order 4411")

        try await sam.send(json: ["type": "note", "ticket": ticket, "text": "refund issued by hand"])
        _ = try await sam.next(type: "noted")
        try await sam.send(json: ["type": "close", "ticket": ticket, "resolution": "refund issued"])
        _ = try await sam.next(type: "closed")
        let left = try await customer.next(type: "agent_left")
        #expect(left["ask_rating"] as? Bool == true)
        #expect(!(left["text"] as? String ?? "").contains("refund issued by hand"), "notes never reach the customer")

        try await customer.send(json: ["type": "rate", "score": 5, "comment": "quick, thanks"])
        #expect(try await customer.next(type: "rated")["score"] as? Int == 5)
        let stored = try #require(try await running.database.ticket(id: ticket))
        #expect(stored.state == .closed)
        #expect(stored.rating == 5)
        #expect(stored.ratingComment == "quick, thanks")
        #expect(stored.resolution == "refund issued")
        #expect(stored.agentName == "Sam")

        // The bot answers again after the chat with a person ends.
        #expect(try await customer.ask("where is my order")["type"] as? String == "reply")
        let lines = try await running.database.transcript(sessionID: stored.sessionID)
        #expect(lines.contains { $0.speaker == .agent && $0.author == "Sam" && $0.action == nil })
        #expect(lines.contains { $0.action == .note && $0.text == "refund issued by hand" })
        await customer.close()
        await sam.close()
        await running.stop()
    }

    @Test("each trigger hands off with its reason", arguments: [
        (["can i speak to a real person"], "asked_for_person"),
        (["i was charged twice"], "handoff_topic"),
        // Misses and repeats only offer a person; taking the offer hands off.
        (["zxqv blorp", "qqq wvvx", "Talk to a person"], "asked_for_person"),
        (["where is my order", "where is my order", "Talk to a person"], "asked_for_person"),
        (["I want a manager NOW, this is ridiculous!!!"], "angry"),
    ])
    func triggers(messages: [String], reason: String) async throws {
        let running = try await HandoffFixture.start()
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        for message in messages.dropLast() {
            #expect(try await customer.ask(message)["type"] as? String == "reply")
        }
        let handoff = try await customer.handOff(messages.last!)
        #expect(handoff["reason"] as? String == reason)
        #expect(EscalationLevel(name: handoff["priority"] as? String ?? "") != nil)
        let ticket = try #require(try await running.database.ticket(id: try ticketID(handoff)))
        #expect(ticket.state == .waiting)
        #expect(ticket.reason == reason)
        await customer.close()
        await running.stop()
    }

    @Test("a billing topic routes to the agent with that skill; others are not offered it")
    func routingBySkill() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam", skills: ["billing"])
        let ali = try await running.agent("Ali", skills: ["shipping"])
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        let handoff = try await customer.handOff("i was charged twice")
        #expect(handoff["priority"] as? String == "medium")
        #expect(try ticketID(try await sam.next(type: "ticket_new")) == ticketID(handoff))
        #expect(await ali.drain().filter { $0["type"] as? String == "ticket_new" }.isEmpty)
        try await ali.send(json: ["type": "claim"])
        #expect(try await ali.next(type: "error")["code"] as? String == "queue_empty")
        try await sam.send(json: ["type": "claim"])
        #expect(try ticketID(try await sam.next(type: "claimed")) == ticketID(handoff))
        await running.stop()
    }

    @Test("a chat an agent took is never abandoned when the customer's grace period ends")
    func claimedTicketIsNotAbandoned() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        await customer.close()
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        _ = try await sam.next(type: "claimed")
        // A witness: a second customer who drops later than the first. When their grace period has ended (the line
        // tells Sam), the first customer's, which began earlier and is as long, has ended too.
        let (witness, witnessTicket) = try await running.customerInLine("can i speak to a real person")
        await witness.close()
        try await running.pass(.customerGrace(ticket: witnessTicket))
        #expect(try ticketID(try await sam.next(type: "ticket_gone")) == witnessTicket)
        #expect(try await running.database.ticket(id: ticket)?.state == .assigned)
        try await sam.send(json: ["type": "say", "ticket": ticket, "text": "Are you still there?"])
        #expect(try await sam.next(type: "sent")["customer_online"] as? Bool == false)
        await running.stop()
    }

    @Test("while waiting, a question the bot can answer is answered and stored with the ticket; the rest joins it")
    func answersWhileWaiting() async throws {
        let running = try await HandoffFixture.start()
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        let answer = try await customer.ask("where is my order")
        #expect(answer["type"] as? String == "reply")
        #expect(answer["intent"] as? String == "orders.track")
        #expect((answer["text"] as? String ?? "").contains("still in line"))
        #expect(try await running.database.ticket(id: ticket)?.state == .waiting)
        // Asking for a person again, or something the bot can't answer, just joins the ticket.
        #expect(try await customer.ask("can i speak to a real person")["type"] as? String == "received")
        #expect(try await customer.ask("zxqv blorp")["type"] as? String == "received")
        // The agent who takes it sees what the bot said.
        let session = try #require(try await running.database.ticket(id: ticket)?.sessionID)
        let lines = try await running.database.transcript(sessionID: session).filter { $0.ticketID == ticket }
        #expect(lines.contains { $0.speaker == .bot && $0.intent == "orders.track" })
        await customer.close()
        await running.stop()
    }

    @Test("out of hours, a topic for the team shows its written reply before the handoff; in hours, only the handoff")
    func handoffTopicKeepsItsReply() async throws {
        for away in [true, false] {
            let engine = try HandoffFixture.engine(settings: away ? HandoffFixture.closedEveryDay : nil)
            let running = try await RunningServer.start(engine: engine, handoff: HandoffFixture.quickGrace)
            let customer = try await running.connect()
            _ = try await customer.welcomed()
            try await customer.send(json: ["type": "say", "text": "i was charged twice"])
            let first = try #require(try await customer.next())
            if away {
                #expect(first["type"] as? String == "reply")
                #expect((first["text"] as? String ?? "").contains("billing@test.example"))
                _ = try await customer.next(type: "handoff")
            } else {
                #expect(first["type"] as? String == "handoff", "\(first)")
            }
            await customer.close()
            await running.stop()
        }
    }

    @Test("out of hours, a waiting customer may leave an e-mail address: kept whole on the ticket, masked in the transcript, shown to agents")
    func leavesAnEmailAddress() async throws {
        let running = try await HandoffFixture.start(settings: HandoffFixture.closedEveryDay)
        let customer = try await running.connect()
        let session = try await customer.welcomed()
        let handoff = try await customer.handOff("can i speak to a real person")
        let ticket = try ticketID(handoff)
        #expect((handoff["text"] as? String ?? "").contains("type your e-mail address here"), "\(handoff)")
        try await customer.send(json: ["type": "say", "text": "you can reach me at jo.bloggs@example.com thanks"])
        let thanks = try await customer.next(type: "received")
        #expect(thanks["text"] as? String
                == "Thanks. Our team will reply to j•••@example.com by e-mail. You can close this chat if you like.")
        #expect(try await running.database.ticket(id: ticket)?.replyEmail == "jo.bloggs@example.com")
        let stored = try await running.database.transcript(sessionID: session)
        #expect(!stored.contains { $0.text.contains("jo.bloggs@example.com") })
        #expect(stored.contains { $0.speaker == .customer && $0.text.contains(PIIMasker.emailToken) })
        // The agent who comes in sees where to reply.
        let sam = try await running.agent("Sam")
        try await sam.send(json: ["type": "queue"])
        let queue = try await sam.next(type: "queue")
        let tickets = queue["tickets"] as? [[String: Any]] ?? []
        #expect(tickets.first { ($0["ticket"] as? Int).map(Int64.init) == ticket }?["reply_email"] as? String
                == "jo.bloggs@example.com", "\(queue)")
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        #expect(try await sam.next(type: "claimed")["reply_email"] as? String == "jo.bloggs@example.com")
        // Once a person has the chat, an address is only passed on.
        try await customer.send(json: ["type": "say", "text": "or use jo@work.example"])
        _ = try await customer.next(type: "received")
        #expect(try await sam.next(type: "customer")["text"] as? String == "or use jo@work.example")
        #expect(try await running.database.ticket(id: ticket)?.replyEmail == "jo.bloggs@example.com")
        await customer.close()
        await running.stop()
    }

    @Test("offering a person out of hours says the team is away, before the customer chooses; in hours it does not")
    func offerSaysWhenTeamIsAway() async throws {
        for away in [true, false] {
            let running = try await HandoffFixture.start(settings: away ? HandoffFixture.closedEveryDay : nil)
            if !away {
                // Someone online: the team is there whatever the hours say.
                let token = AgentToken.generate()
                _ = try await running.database.addAgent(name: "Sam", skills: [], tokenHash: AgentToken.hash(token),
                                                        at: Date())
                let sam = try await running.login(token: token)
                try await sam.send(json: ["type": "status", "status": "online"])
                _ = try await sam.next(type: "status")
            }
            let customer = try await running.connect()
            _ = try await customer.welcomed()
            let answer = try await customer.ask("where is my order")
            #expect(answer["type"] as? String == "reply", "\(answer)")
            let offer = try await customer.ask("that did not help")
            let text = offer["text"] as? String ?? ""
            #expect(text.contains("talk to a person"), "\(offer)")
            #expect(text.contains("Our team is away right now") == away, "\(offer)")
            #expect((offer["suggestions"] as? [[String: Any]] ?? []).contains { $0["title"] as? String == "Talk to a person" }
                    || "\(offer)".contains("Talk to a person"), "\(offer)")
            await customer.close()
            await running.stop()
        }
    }

    @Test("after a person closes the chat, a typed '5, thanks' rates it; a returning customer is told it was closed")
    func typedRatingAndClosedOnReturn() async throws {
        let (running, token) = try await HandoffFixture.startWithSam()
        let sam = try await running.login(token: token)
        let customer = try await running.connect()
        let session = try await customer.welcomed()
        let ticket = try ticketID(try await customer.handOff("can i speak to a real person"))
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        _ = try await sam.next(type: "claimed")
        try await sam.send(json: ["type": "close", "ticket": ticket, "resolution": "sorted"])
        _ = try await customer.next(type: "agent_left")
        await customer.close()

        // Back later, on a new connection: the chat says it was closed and asks again.
        let back = try await running.connect()
        _ = try await back.welcomed()
        try await back.send(json: ["type": "hello", "session": session])
        _ = try await back.next(type: "welcome")
        let closed = try await back.next(type: "agent_left")
        #expect(closed["ask_rating"] as? Bool == true)
        #expect((closed["text"] as? String ?? "").contains("closed the chat"))
        let rated = try await back.ask("5, thanks Sam!")
        #expect(rated["type"] as? String == "rated")
        let stored = try #require(try await running.database.ticket(id: ticket))
        #expect(stored.rating == 5)
        #expect(stored.ratingComment == "thanks Sam!")
        // Not a rating: the bot answers.
        #expect(try await back.ask("where is my order")["type"] as? String == "reply")
        await back.close()
        await sam.close()
        await running.stop()
    }

    @Test("the queue preview is the customer's question, not the 'human' that handed off")
    func previewIsTheQuestion() async throws {
        let running = try await HandoffFixture.start()
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        _ = try await customer.ask("my parcel was due on monday and it has not come")
        let ticket = try ticketID(try await customer.handOff("human"))
        let preview = try #require(try await running.database.ticket(id: ticket)?.preview)
        #expect(preview.hasPrefix("my parcel was due on monday"), "\(preview)")
        await customer.close()
        await running.stop()
    }

    @Test("a message for the team that happens to contain 'found it' does not leave the line")
    func leaveQueueOnlyOnPurpose() async throws {
        let running = try await HandoffFixture.start()
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        #expect(try await customer.ask("i found it was charged twice")["type"] as? String == "received")
        #expect(try await running.database.ticket(id: ticket)?.state == .waiting)
        await running.stop()
    }

    @Test("a returning customer goes straight back to the agent who helped them (sticky agent)")
    func stickyAgent() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let zoe = try await running.agent("Zoe")
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        let first = try ticketID(try await customer.handOff("can i speak to a real person"))
        try await sam.send(json: ["type": "claim", "ticket": first])
        _ = try await sam.next(type: "claimed")
        try await sam.send(json: ["type": "close", "ticket": first, "resolution": "answered"])
        _ = try await sam.next(type: "closed")
        _ = try await customer.next(type: "agent_left")
        // Colleagues hear that the chat is gone; the one who closed it does not need to.
        let gone = try await zoe.next(type: "ticket_gone")
        #expect(try ticketID(gone) == first)
        #expect(gone["state"] as? String == "closed")
        #expect(await sam.drain(for: .milliseconds(200)).allSatisfy { $0["type"] as? String != "ticket_gone" })
        await zoe.close()

        let ali = try await running.agent("Ali")
        let again = try await customer.handOff("can i talk to a human again please")
        let second = try ticketID(again)
        #expect(second != first)
        #expect((again["text"] as? String ?? "").contains("Sam"))
        #expect(again["position"] as? Int == 0)
        #expect(try await customer.next(type: "agent_joined")["agent"] as? String == "Sam")
        let claimed = try await sam.next(type: "claimed")
        #expect(try ticketID(claimed) == second)
        #expect(claimed["sticky"] as? Bool == true)
        #expect(await ali.drain().allSatisfy { $0["type"] as? String != "ticket_new" })
        #expect(try await running.database.ticket(id: second)?.agentName == "Sam")
        await running.stop()
    }

    @Test("a restart keeps waiting tickets; the customer rejoins with hello and an agent picks it up")
    func restartWithTicketsWaiting() async throws {
        var running = try await HandoffFixture.start()
        let folder = running.folder
        let customer = try await running.connect()
        let session = try await customer.welcomed()
        let ticket = try ticketID(try await customer.handOff("this is ridiculous, i want a manager"))
        await customer.close()
        await running.stop(removeFiles: false)

        running = try await HandoffFixture.start(folder: folder)
        let back = try await running.connect()
        _ = try await back.welcomed()
        try await back.send(json: ["type": "hello", "session": session])
        let welcome = try await back.next(type: "welcome")
        #expect(welcome["resumed"] as? Bool == true)
        let place = try await back.next(type: "queue")
        #expect(try ticketID(place) == ticket)
        #expect(place["position"] as? Int == 1)

        let sam = try await running.agent("Sam")
        try await sam.send(json: ["type": "claim"])
        let claimed = try await sam.next(type: "claimed")
        #expect(try ticketID(claimed) == ticket)
        #expect((claimed["transcript"] as? [[String: Any]] ?? []).contains {
            ($0["text"] as? String) == "this is ridiculous, i want a manager"
        })
        #expect(try await back.next(type: "agent_joined")["agent"] as? String == "Sam")
        await running.stop()
    }

    @Test("bad tokens get auth_failed; the third failure closes; commands need a login")
    func badTokens() async throws {
        let running = try await HandoffFixture.start()
        let client = try await LineClient.connect(port: running.agentPort)
        _ = try await client.next(type: "hello")
        try await client.send(json: ["type": "queue"])
        #expect(try await client.next(type: "error")["code"] as? String == "not_logged_in")
        for attempt in 1...3 {
            try await client.send(json: ["type": "login", "token": "wrong-\(attempt)"])
            #expect(try await client.next(type: "error")["code"] as? String == "auth_failed")
        }
        #expect(try await client.next() == nil, "the connection closes after three failures")
        await running.stop()
    }

    @Test("two agents claiming the same ticket: exactly one wins")
    func concurrentClaims() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let ali = try await running.agent("Ali")
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        _ = try await sam.next(type: "ticket_new")
        _ = try await ali.next(type: "ticket_new")
        async let a: Void = sam.send(json: ["type": "claim", "ticket": ticket])
        async let b: Void = ali.send(json: ["type": "claim", "ticket": ticket])
        _ = try await (a, b)
        func outcome(_ client: LineClient) async throws -> String {
            while true {
                let line = try #require(try await client.next())
                if line["type"] as? String == "claimed" { return "claimed" }
                if line["type"] as? String == "error" { return line["code"] as? String ?? "" }
            }
        }
        let results = [try await outcome(sam), try await outcome(ali)].sorted()
        #expect(results == ["already_claimed", "claimed"])
        await customer.close()  // connected until here: the chat stays with a customer online
        await running.stop()
    }

    @Test("an agent who drops mid-chat: after the grace period the ticket goes back to the front, the customer is told")
    func agentDisconnects() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        try await sam.send(json: ["type": "claim"])
        _ = try await sam.next(type: "claimed")
        _ = try await customer.next(type: "agent_joined")
        await sam.close()
        try await running.pass(.agentGrace(ticket: ticket))

        let left = try await customer.next(type: "agent_left")
        #expect((left["text"] as? String ?? "").contains("front of the line"))
        #expect(try await customer.next(type: "queue")["position"] as? Int == 1)
        let stored = try #require(try await running.database.ticket(id: ticket))
        #expect(stored.state == .waiting)
        #expect(stored.front)

        let ali = try await running.agent("Ali")
        try await ali.send(json: ["type": "claim"])
        #expect(try ticketID(try await ali.next(type: "claimed")) == ticket)
        await running.stop()
    }

    @Test("an agent who comes back within the grace period keeps the chat")
    func agentReconnectsInTime() async throws {
        let (running, token) = try await HandoffFixture.startWithSam()
        var sam = try await running.login(token: token)
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        try await sam.send(json: ["type": "claim"])
        _ = try await sam.next(type: "claimed")
        await sam.close()
        sam = try await running.sendLogin(token: token)
        let claimed = try await sam.next(type: "claimed")
        #expect(try ticketID(claimed) == ticket)
        #expect(try await running.database.ticket(id: ticket)?.state == .assigned)
        await customer.close()  // connected until here: the chat stays with a customer online
        await running.stop()
    }

    @Test("a second connection on the same session takes it over: the first is told and closed; agent events go to the second (D9)")
    func secondConnectionTakesTheSessionOver() async throws {
        let (running, token) = try await HandoffFixture.startWithSam()
        let sam = try await running.login(token: token)
        let first = try await running.connect()
        let session = try await first.welcomed()
        let ticket = try ticketID(try await first.handOff("can i speak to a real person"))
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        _ = try await sam.next(type: "claimed")
        _ = try await first.next(type: "agent_joined")

        // Another tab opens the same chat while the first is still connected.
        let second = try await running.connect()
        _ = try await second.welcomed()
        try await second.send(json: ["type": "hello", "session": session])
        _ = try await second.next(type: "welcome")
        _ = try await second.next(type: "agent_joined")
        let moved = try await first.next(type: "error")
        #expect(moved["code"] as? String == "open_elsewhere")
        #expect(try await first.next() == nil, "the older connection stayed open")

        try await sam.send(json: ["type": "say", "ticket": ticket, "text": "Still with you."])
        #expect(try await sam.next(type: "sent")["customer_online"] as? Bool == true)
        #expect(try await second.next(type: "agent")["text"] as? String == "Still with you.")
        _ = try await second.ask("great, thanks")
        #expect(try await sam.next(type: "customer")["text"] as? String == "great, thanks")
        // The first connection closing was not the customer leaving.
        #expect(await sam.drain().allSatisfy { $0["type"] as? String != "customer_left" })
        await second.close()
        await sam.close()
        await running.stop()
    }

    @Test("a customer who comes back while their agent is away is told the agent will be back, then that they joined")
    func customerBackWhileAgentAway() async throws {
        let (running, token) = try await HandoffFixture.startWithSam()
        var sam = try await running.login(token: token)
        let customer = try await running.connect()
        let session = try await customer.welcomed()
        let ticket = try ticketID(try await customer.handOff("can i speak to a real person"))
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        _ = try await sam.next(type: "claimed")
        await sam.close()
        await customer.close()

        let back = try await running.connect()
        _ = try await back.welcomed()
        try await back.send(json: ["type": "hello", "session": session])
        _ = try await back.next(type: "welcome")
        let note = try await back.next()
        #expect(note?["type"] as? String == "received")
        #expect((note?["text"] as? String ?? "").contains("Sam will be back"))
        sam = try await running.sendLogin(token: token)
        #expect(try await back.next(type: "agent_joined")["agent"] as? String == "Sam")
        await running.stop()
    }

    @Test("'never mind' while waiting leaves the line and the bot answers again")
    func neverMind() async throws {
        let running = try await HandoffFixture.start()
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        let left = try await customer.ask("never mind")
        #expect(left["type"] as? String == "queue_left")
        #expect(try await running.database.ticket(id: ticket)?.state == .abandoned)
        // What the customer typed is stored as they typed it, with the team's note and the bot's answer (D9).
        let session = try #require(try await running.database.ticket(id: ticket)?.sessionID)
        let stored = try await running.database.transcript(sessionID: session).suffix(3)
        #expect(stored.map(\.speaker) == [.customer, .system, .bot])
        #expect(stored.first?.text == "never mind")
        #expect(stored.last?.text == left["text"] as? String)
        #expect(try await customer.ask("where is my order")["action"] as? String == "answer")
        await running.stop()
    }

    @Test("a waiting customer who drops and does not come back is abandoned; agents are told")
    func customerDrops() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        _ = try await sam.next(type: "ticket_new")
        await customer.close()
        try await running.pass(.customerGrace(ticket: ticket))
        let gone = try await sam.next(type: "ticket_gone")
        #expect(try ticketID(gone) == ticket)
        #expect(try await running.database.ticket(id: ticket)?.state == .abandoned)
        await running.stop()
    }

    @Test("transfer to a skill puts the chat back at the front for that skill; transfer to a named agent hands it over")
    func transfers() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam", skills: ["billing"])
        let ali = try await running.agent("Ali", skills: ["shipping"])
        let (customer, ticket) = try await running.customerInLine("i was charged twice")
        try await sam.send(json: ["type": "claim"])
        _ = try await sam.next(type: "claimed")
        _ = try await customer.next(type: "agent_joined")

        // A skill nobody on the team has is refused, naming the skills there are; the chat stays with Sam.
        try await sam.send(json: ["type": "transfer", "ticket": ticket, "skill": "returns"])
        let refused = try await sam.next(type: "error")
        #expect(refused["code"] as? String == "unknown_skill")
        #expect((refused["message"] as? String ?? "").contains("billing, shipping"), "\(refused)")
        #expect(try await running.database.ticket(id: ticket)?.agentName == "Sam")

        try await sam.send(json: ["type": "transfer", "ticket": ticket, "skill": "shipping"])
        #expect(try await sam.next(type: "transferred")["to"] as? String == "shipping")
        _ = try await customer.next(type: "agent_left")
        #expect(try await customer.next(type: "queue")["position"] as? Int == 1)
        #expect(try ticketID(try await ali.next(type: "ticket_new")) == ticket)
        try await ali.send(json: ["type": "claim"])
        let claimed = try await ali.next(type: "claimed")
        #expect((claimed["transcript"] as? [[String: Any]] ?? []).contains { ($0["text"] as? String) == "i was charged twice" })
        #expect(try await customer.next(type: "agent_joined")["agent"] as? String == "Ali")

        try await ali.send(json: ["type": "transfer", "ticket": ticket, "agent": "sam"])
        _ = try await ali.next(type: "transferred")
        let toSam = try await sam.next(type: "claimed")
        #expect(toSam["transferred_from"] as? String == "Ali")
        #expect(try await customer.next(type: "agent_joined")["agent"] as? String == "Sam")
        #expect(try await running.database.ticket(id: ticket)?.agentName == "Sam")
        await running.stop()
    }

    @Test("places in line move up when someone ahead is picked up")
    func queuePositions() async throws {
        let running = try await HandoffFixture.start()
        let first = try await running.connect()
        let second = try await running.connect()
        _ = try await first.welcomed()
        _ = try await second.welcomed()
        _ = try await first.handOff("can i speak to a real person")
        let place = try await second.handOff("i want to talk to a human")
        #expect(place["position"] as? Int == 2)
        let sam = try await running.agent("Sam")
        try await sam.send(json: ["type": "claim"])
        _ = try await sam.next(type: "claimed")
        #expect(try await second.next(type: "queue")["position"] as? Int == 1)
        await running.stop()
    }

    @Test("outside opening hours with no one online, the customer is told the team is away and the ticket is kept")
    func outsideOpeningHours() async throws {
        let running = try await HandoffFixture.start(settings: HandoffFixture.closedEveryDay)
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        let handoff = try await customer.handOff("can i speak to a real person")
        #expect((handoff["text"] as? String ?? "").contains("away right now"))
        #expect(try await running.database.ticket(id: try ticketID(handoff))?.state == .waiting)
        await running.stop()
    }

    @Test("a customer waiting for a person is not closed for being quiet; others still are")
    func waitingCustomersAreNotIdledOut() async throws {
        let running = try await RunningServer.start(engine: HandoffFixture.engine(), handoff: HandoffFixture.quickGrace) {
            $0.idleTimeoutSeconds = 1
        }
        let waiting = try await running.connect()
        let idle = try await running.connect()
        _ = try await waiting.welcomed()
        _ = try await idle.welcomed()
        let ticket = try ticketID(try await waiting.handOff("can i speak to a real person"))
        #expect(try await idle.next(type: "error", timeout: .seconds(30))["code"] as? String == "idle_timeout")
        // A witness quiet since after the waiting customer's last message: once it is closed for being quiet, the
        // waiting customer has been quiet for longer than the idle timeout too.
        let late = try await running.connect()
        _ = try await late.welcomed()
        #expect(try await late.next(type: "error", timeout: .seconds(30))["code"] as? String == "idle_timeout")
        let sam = try await running.agent("Sam")
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        _ = try await sam.next(type: "claimed")
        #expect(try await waiting.next(type: "agent_joined")["agent"] as? String == "Sam")
        #expect(try await running.database.ticket(id: ticket)?.state == .assigned)
        await running.stop()
    }

    @Test("a customer who comes back with hello sees the agent's messages but never the internal notes")
    func notesStayInternalOnResume() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let customer = try await running.connect()
        let session = try await customer.welcomed()
        let ticket = try ticketID(try await customer.handOff("can i speak to a real person"))
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        _ = try await sam.next(type: "claimed")
        try await sam.send(json: ["type": "note", "ticket": ticket, "text": "customer seems to be a reseller"])
        _ = try await sam.next(type: "noted")
        try await sam.send(json: ["type": "say", "ticket": ticket, "text": "Let me look."])
        _ = try await sam.next(type: "sent")
        await customer.close()

        let back = try await running.connect()
        _ = try await back.welcomed()
        try await back.send(json: ["type": "hello", "session": session])
        let welcome = try await back.next(type: "welcome")
        let history = (welcome["history"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        #expect(history.contains("Let me look."))
        #expect(!history.contains("customer seems to be a reseller"))
        #expect(!history.contains { $0.contains("joined") }, "system lines are for the team")
        #expect(try await back.next(type: "agent_joined")["agent"] as? String == "Sam")
        await running.stop()
    }

    @Test("the same agent signing in twice: the older connection is told and closed")
    func signedInElsewhere() async throws {
        let (running, token) = try await HandoffFixture.startWithSam()
        let first = try await running.login(token: token)
        let second = try await running.login(token: token)
        #expect(try await first.next(type: "error")["code"] as? String == "signed_in_elsewhere")
        #expect(try await first.next() == nil)
        try await second.send(json: ["type": "queue"])
        _ = try await second.next(type: "queue")
        await running.stop()
    }

    @Test("an agent removed while logged in is logged out on their next command")
    func removedAgent() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        #expect(try await running.database.removeAgent(named: "Sam"))
        try await sam.send(json: ["type": "claim"])
        #expect(try await sam.next(type: "error")["code"] as? String == "agent_removed")
        #expect(try await sam.next() == nil)
        await running.stop()
    }

    @Test("outside opening hours a customer who drops is not abandoned: the team replies when back")
    func awayTicketsWait() async throws {
        let running = try await HandoffFixture.start(settings: HandoffFixture.closedEveryDay)
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        await customer.close()
        let desk = try running.desk
        // Once the desk has dealt with the disconnect (not just heard of it), no grace period may be running.
        try await waitUntil {
            let connected = await desk.isConnected(customer: ticket)
            let settled = await desk.disconnectsSettled
            return !connected && settled
        }
        #expect(await desk.deadlines.isEmpty, "no grace period out of hours")
        (running.clock as? ManualClock)?.advance(by: 86_400)
        #expect(try await running.database.ticket(id: ticket)?.state == .waiting)
        await running.stop()
    }

    @Test("when storing the bot's answer fails, the chat goes to a person instead of leaving the customer stuck")
    func internalErrorHandsOff() async throws {
        let running = try await HandoffFixture.start()
        let customer = try await running.connect()
        _ = try await customer.welcomed()
        #expect(try await customer.ask("hello")["type"] as? String == "reply")
        // From now on every plain bot answer fails to store; the customer's line and the handoff still can.
        try await running.database.executeForTesting("""
            CREATE TRIGGER fail_answers BEFORE INSERT ON transcriptEntry
            WHEN NEW.speaker = 'bot' AND NEW.action = 'answer'
            BEGIN SELECT RAISE(ABORT, 'disk trouble'); END
            """)
        let handoff = try await customer.handOff("where is my order")
        #expect(handoff["reason"] as? String == "internal_error")
        #expect(handoff["priority"] as? String == "medium-high")
        #expect((handoff["text"] as? String ?? "").hasPrefix("Sorry, something went wrong on our side."))
        let ticket = try #require(try await running.database.ticket(id: try ticketID(handoff)))
        let lines = try await running.database.transcript(sessionID: ticket.sessionID)
        #expect(lines.contains { $0.speaker == .customer && $0.text == "where is my order" && $0.ticketID == ticket.id })
        await running.stop()
    }

    @Test("agents get clear errors for someone else's ticket and unknown tickets")
    func agentErrors() async throws {
        let running = try await HandoffFixture.start()
        let sam = try await running.agent("Sam")
        let ali = try await running.agent("Ali")
        let (customer, ticket) = try await running.customerInLine("can i speak to a real person")
        try await sam.send(json: ["type": "claim", "ticket": ticket])
        _ = try await sam.next(type: "claimed")
        try await ali.send(json: ["type": "say", "ticket": ticket, "text": "hi"])
        #expect(try await ali.next(type: "error")["code"] as? String == "not_your_ticket")
        try await ali.send(json: ["type": "claim", "ticket": 999])
        #expect(try await ali.next(type: "error")["code"] as? String == "unknown_ticket")
        try await ali.send(json: ["type": "close", "ticket": ticket])
        #expect(try await ali.next(type: "error")["code"] as? String == "missing_field")
        try await ali.send("not json")
        #expect(try await ali.next(type: "error")["code"] as? String == "bad_json")
        await customer.close()  // connected until here: the chat stays with a customer online
        await running.stop()
    }
}
