import Foundation
import Testing
@testable import SupportBotStore

@Suite("Human handoff: agents and tickets")
struct HandoffStoreTests {
    static let email = "jane.doe@example.com"

    // MARK: - Helpers

    /// A database file in `folder` with sessions `ids`, created at `.fixture()`.
    func makeDatabase(in folder: TemporaryFolder, sessions ids: [String] = ["s1"]) async throws -> SupportBotDatabase {
        let database = try SupportBotDatabase.open(path: folder.file("bot.sqlite"))
        for id in ids {
            try await database.createSession(id: id, at: .fixture(), kbVersion: 1, context: "{}")
        }
        return database
    }

    func newTicket(_ sessionID: String, level: Int = 1, preview: String = "I want a person") -> NewTicket {
        NewTicket(
            sessionID: sessionID, reason: "customer_asked", level: level, tags: ["refund", " billing ", "", "refund"],
            mood: -0.4, details: #"{"intent":"refund"}"#, preview: preview)
    }

    func turn(_ sessionID: String, at: Date, text: String = "Let me talk to a human",
              context: String = #"{"handoff":true}"#) -> ChatTurn {
        ChatTurn(sessionID: sessionID, context: context, kbVersion: 1, entries: [
            TranscriptEntry(sessionID: sessionID, at: at, speaker: .customer, text: text),
            TranscriptEntry(sessionID: sessionID, at: at, speaker: .system, text: "Queued for an agent",
                            action: .handoff),
        ], at: at)
    }

    @discardableResult
    func open(_ database: SupportBotDatabase, _ sessionID: String, at: Date, level: Int = 1) async throws -> Ticket {
        try await database.openTicket(newTicket(sessionID, level: level), turn: turn(sessionID, at: at), at: at)
    }

    func addAgent(_ database: SupportBotDatabase, _ name: String, skills: [String] = []) async throws -> Agent {
        try await database.addAgent(name: name, skills: skills, tokenHash: "hash-\(name)", at: .fixture())
    }

    // MARK: - One transaction per change

    @Test("a handoff stores the turn, the ticket and the message made for its place in one transaction")
    func openTicketWithItsMessage() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2", "s3"])
        try await open(database, "s1", at: .fixture(1), level: 1)
        let urgent = try await database.openTicket(newTicket("s2", level: 3), turn: turn("s2", at: .fixture(2)),
                                                   at: .fixture(2)) { ticket, place in
            [TranscriptEntry(sessionID: ticket.sessionID, at: .fixture(2), speaker: .bot,
                             text: "You are number \(place), ticket \(ticket.id)", action: .handoff, ticketID: ticket.id)]
        }
        let lines = try await database.transcript(sessionID: "s2")
        #expect(lines.last?.text == "You are number 1, ticket \(urgent.id)", "a higher level goes first")
        #expect(lines.last?.ticketID == urgent.id)

        // A returning customer's own agent: stored theirs, place 0.
        let sam = try await addAgent(database, "Sam")
        let sticky = try await database.openTicket(newTicket("s3"), turn: turn("s3", at: .fixture(3)), at: .fixture(3),
                                                   agent: (sam.id, sam.name)) { ticket, place in
            [TranscriptEntry(sessionID: ticket.sessionID, at: .fixture(3), speaker: .system,
                             text: "\(ticket.agentName ?? "?") joined, place \(place)", ticketID: ticket.id)]
        }
        #expect(sticky.state == .assigned)
        #expect(sticky.claimedAt == .fixture(3))
        #expect(try await database.transcript(sessionID: "s3").last?.text == "Sam joined, place 0")
        #expect(try await database.recentPickupSeconds(limit: 5, since: .fixture(0)).isEmpty,
                "being given to one's own agent at once is not a pickup")

        // A message that can't be stored takes the ticket and the turn with it.
        try await database.executeForTesting("""
            CREATE TRIGGER no_bot BEFORE INSERT ON transcriptEntry WHEN NEW.speaker = 'bot'
            BEGIN SELECT RAISE(ABORT, 'disk trouble'); END
            """)
        try await database.createSession(id: "s4", at: .fixture(), kbVersion: 1, context: "{}")
        await #expect(throws: (any Error).self) {
            try await database.openTicket(newTicket("s4"), turn: turn("s4", at: .fixture(4)), at: .fixture(4)) { ticket, _ in
                [TranscriptEntry(sessionID: ticket.sessionID, at: .fixture(4), speaker: .bot, text: "in line",
                                 ticketID: ticket.id)]
            }
        }
        #expect(try await database.openTicket(sessionID: "s4") == nil)
        #expect(try await database.transcript(sessionID: "s4").isEmpty)
    }

    @Test("a claim, a requeue, a close and an abandon are stored with their team lines, or not at all")
    func changesWithTheirLines() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2"])
        let sam = try await addAgent(database, "Sam")
        let ticket = try await open(database, "s1", at: .fixture(1))
        func line(_ text: String) -> TranscriptEntry {
            TranscriptEntry(sessionID: "s1", at: .fixture(2), speaker: .system, text: text, ticketID: ticket.id)
        }
        try await database.executeForTesting("""
            CREATE TRIGGER no_system BEFORE INSERT ON transcriptEntry WHEN NEW.text = 'fails'
            BEGIN SELECT RAISE(ABORT, 'disk trouble'); END
            """)
        // The line fails: the claim is not stored either, so nobody is left holding a chat nobody was told of.
        await #expect(throws: (any Error).self) {
            try await database.claimTicket(id: ticket.id, agentID: sam.id, agentName: sam.name, at: .fixture(2),
                                           lines: [line("fails")])
        }
        #expect(try await database.ticket(id: ticket.id)?.state == .waiting)
        let claimed = try await database.claimTicket(id: ticket.id, agentID: sam.id, agentName: sam.name,
                                                     at: .fixture(2), lines: [line("Sam joined")])
        #expect(claimed?.state == .assigned)
        // Only the change's own lines, and only when the change happens.
        #expect(try await database.claimTicket(id: ticket.id, agentID: sam.id, agentName: sam.name, at: .fixture(3),
                                               lines: [line("Sam joined again")]) == nil)
        await #expect(throws: (any Error).self) {
            try await database.requeueTicket(id: ticket.id, front: true, skill: nil, at: .fixture(3), lines: [line("fails")])
        }
        #expect(try await database.ticket(id: ticket.id)?.state == .assigned)
        let bea = try await addAgent(database, "Bea")
        let handed = try await database.handOver(id: ticket.id, toAgentID: bea.id, agentName: bea.name, at: .fixture(4),
                                                 lines: [line("Sam transferred the chat to Bea")])
        #expect(handed?.agentName == "Bea")
        #expect(handed?.previousAgentID == sam.id)
        #expect(handed?.queuedAt == .fixture(4) && handed?.claimedAt == .fixture(4))
        await #expect(throws: (any Error).self) {
            try await database.closeTicket(id: ticket.id, resolution: "done", at: .fixture(5), lines: [line("fails")])
        }
        #expect(try await database.ticket(id: ticket.id)?.state == .assigned)
        _ = try await database.closeTicket(id: ticket.id, resolution: "done", at: .fixture(5),
                                           lines: [line("Bea closed the chat")])
        let texts = try await database.transcript(sessionID: "s1").map(\.text)
        #expect(texts.suffix(3) == ["Sam joined", "Sam transferred the chat to Bea", "Bea closed the chat"])

        let waiting = try await open(database, "s2", at: .fixture(6))
        let gone = TranscriptEntry(sessionID: "s2", at: .fixture(7), speaker: .system, text: "fails", ticketID: waiting.id)
        await #expect(throws: (any Error).self) {
            try await database.abandonTicket(id: waiting.id, at: .fixture(7), lines: [gone])
        }
        #expect(try await database.ticket(id: waiting.id)?.state == .waiting)
    }

    // MARK: - Agents

    @Test func agentsAreAddedListedFoundAndRemoved() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: [])
        let sam = try await database.addAgent(
            name: "  Sam ", skills: [" Billing", "refunds,billing", "", "  ", "Returns "], tokenHash: "h-sam",
            at: .fixture(5))
        #expect(sam.name == "Sam")
        #expect(sam.skills == ["billing", "refunds", "returns"])
        #expect(sam.createdAt == .fixture(5))
        let alex = try await database.addAgent(name: "alex", skills: [], tokenHash: "h-alex", at: .fixture(6))
        #expect(alex.skills == [])
        #expect(alex.id != sam.id)

        // Sorted without regard to case: a plain binary sort would put "Sam" before "alex".
        #expect(try await database.agents() == [alex, sam])
        #expect(try await database.agent(named: "SAM") == sam)
        #expect(try await database.agent(named: " sam ") == sam)
        #expect(try await database.agent(named: "Samuel") == nil)
        #expect(try await database.agent(id: sam.id) == sam)
        #expect(try await database.agent(id: 9_999) == nil)

        #expect(try await database.removeAgent(named: "sAm") == true)
        #expect(try await database.removeAgent(named: "Sam") == false)
        #expect(try await database.removeAgent(named: "nobody") == false)
        #expect(try await database.agents() == [alex])
        #expect(try await database.agent(id: sam.id) == nil)
        #expect(try await database.agent(tokenHash: "h-sam") == nil)
    }

    @Test func aTakenNameIsRefusedWhateverItsCase() async throws {
        let database = try SupportBotDatabase.inMemory()
        _ = try await addAgent(database, "Sam")
        let error = await #expect(throws: StoreError.self) {
            try await database.addAgent(name: " sAM ", skills: ["x"], tokenHash: "other", at: .fixture())
        }
        #expect(error == .duplicateAgent(name: "Sam"))
        #expect(error?.description == "An agent called \"Sam\" already exists. Pick another name, or remove the "
            + "old one with `supportbot agents remove Sam`.")
        #expect(StoreError.duplicateAgent(name: "Sam Lee").description.contains("`supportbot agents remove \"Sam Lee\"`"))
        #expect(try await database.agents().count == 1)
        #expect(try await database.agents().first?.skills == [])
    }

    @Test(arguments: ["", "   ", String(repeating: "a", count: 41), "Sam!", "Robert'); DROP TABLE agent;--",
                      "a/b", "tab\there", "new\nline", "emoji🙂"])
    func invalidNamesAreRefused(name: String) async throws {
        let database = try SupportBotDatabase.inMemory()
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        await #expect(throws: StoreError.invalidAgentName(name: trimmed)) {
            try await database.addAgent(name: name, skills: [], tokenHash: "h", at: .fixture())
        }
        #expect(try await database.agents().isEmpty)
        #expect(StoreError.invalidAgentName(name: trimmed).description.contains("1 to 40 letters"))
    }

    @Test(arguments: ["Zoë O.-Smith_2", String(repeating: "b", count: 40), "7"])
    func validNamesAreAccepted(name: String) async throws {
        let database = try SupportBotDatabase.inMemory()
        let agent = try await database.addAgent(name: name, skills: [], tokenHash: "h", at: .fixture())
        #expect(agent.name == name)
        #expect(try await database.agent(named: name) == agent)
    }

    @Test func agentsAreFoundByTheirTokenHash() async throws {
        let database = try SupportBotDatabase.inMemory()
        let sam = try await database.addAgent(name: "Sam", skills: [], tokenHash: "abc123", at: .fixture())
        let kim = try await database.addAgent(name: "Kim", skills: [], tokenHash: "def456", at: .fixture())
        #expect(try await database.agent(tokenHash: "abc123") == sam)
        #expect(try await database.agent(tokenHash: "def456") == kim)
        #expect(try await database.agent(tokenHash: "ABC123") == nil)
        #expect(try await database.agent(tokenHash: "") == nil)
        // A token hash belongs to one agent only.
        await #expect(throws: (any Error).self) {
            try await database.addAgent(name: "Lee", skills: [], tokenHash: "abc123", at: .fixture())
        }
        #expect(try await database.agent(named: "Lee") == nil)
    }

    // MARK: - Opening tickets

    @Test func openingATicketRecordsTheTurnAndLinksItsEntries() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder)
        try await database.record(ChatTurn(sessionID: "s1", context: #"{"n":1}"#, kbVersion: 1, entries: [
            TranscriptEntry(sessionID: "s1", at: .fixture(10), speaker: .customer, text: "Where is my refund?"),
        ], at: .fixture(10)))

        let new = NewTicket(
            sessionID: "s1", reason: "low_confidence", level: 3, tags: ["refund", " billing ", "", "refund"],
            mood: -0.75, details: #"{"intent":"refund","tries":2}"#, preview: "Write to me at \(Self.email)")
        let ticket = try await database.openTicket(
            new, turn: turn("s1", at: .fixture(20), text: "Human please, \(Self.email)", context: #"{"n":2}"#),
            at: .fixture(20))

        #expect(ticket == Ticket(
            id: ticket.id, sessionID: "s1", state: .waiting, reason: "low_confidence", level: 3,
            tags: ["refund", "billing"], skill: nil, mood: -0.75, details: #"{"intent":"refund","tries":2}"#,
            preview: "Write to me at [email]", createdAt: .fixture(20), queuedAt: .fixture(20), front: false))
        #expect(try await database.ticket(id: ticket.id) == ticket)
        #expect(try await database.openTicket(sessionID: "s1") == ticket)
        #expect(try await database.latestTicket(sessionID: "s1") == ticket)

        let transcript = try await database.transcript(sessionID: "s1")
        #expect(transcript.map(\.text) == ["Where is my refund?", "Human please, [email]", "Queued for an agent"])
        #expect(transcript.map(\.ticketID) == [nil, ticket.id, ticket.id])
        #expect(transcript[2].action == .handoff)

        let session = try #require(try await database.session(id: "s1"))
        #expect(session.context == #"{"n":2}"#)
        #expect(session.updatedAt == .fixture(20))
    }

    @Test func appendedEntriesKeepTheirTicketAndAuthorAndLeaveTheContextAlone() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder)
        let ticket = try await open(database, "s1", at: .fixture(10))
        let stored = try await database.append([
            TranscriptEntry(sessionID: "ignored", at: .fixture(30), speaker: .agent,
                            text: "Hi, I'm Sam. Mail me at \(Self.email)", ticketID: ticket.id, author: "Sam"),
        ], sessionID: "s1", at: .fixture(30))
        #expect(stored.count == 1)
        #expect(stored[0].id != nil)
        #expect(stored[0].sessionID == "s1")
        #expect(stored[0].text == "Hi, I'm Sam. Mail me at [email]")

        let last = try #require(try await database.transcript(sessionID: "s1").last)
        #expect(last == stored[0])
        #expect(last.author == "Sam")
        #expect(last.ticketID == ticket.id)
        let session = try #require(try await database.session(id: "s1"))
        #expect(session.context == #"{"handoff":true}"#)
        #expect(session.updatedAt == .fixture(30))

        await #expect(throws: StoreError.unknownSession(id: "ghost")) {
            try await database.append([
                TranscriptEntry(sessionID: "ghost", at: .fixture(), speaker: .agent, text: "hello"),
            ], sessionID: "ghost", at: .fixture())
        }
        #expect(try await database.messageCount() == 3)
    }

    @Test func aSecondOpenTicketIsRefusedAndNothingIsWritten() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder)
        let sam = try await addAgent(database, "Sam")
        let first = try await open(database, "s1", at: .fixture(10))
        let claimed = try #require(
            try await database.claimTicket(id: first.id, agentID: sam.id, agentName: "Sam", at: .fixture(15)))

        let error = await #expect(throws: StoreError.self) {
            try await database.openTicket(
                newTicket("s1"), turn: turn("s1", at: .fixture(20), context: #"{"second":true}"#), at: .fixture(20))
        }
        #expect(error == .ticketAlreadyOpen(sessionID: "s1", ticket: first.id))
        #expect(error?.description.contains("#\(first.id)") == true)
        #expect(try await database.messageCount() == 2)
        #expect(try await database.session(id: "s1")?.context == #"{"handoff":true}"#)
        #expect(try await database.session(id: "s1")?.updatedAt == .fixture(10))
        #expect(try await database.tickets(states: TicketState.allCases, limit: 10) == [claimed])

        // Once closed, the session can be handed off again.
        _ = try await database.closeTicket(id: first.id, resolution: "done", at: .fixture(30))
        let second = try await open(database, "s1", at: .fixture(40))
        #expect(second.id != first.id)
        #expect(try await database.openTicket(sessionID: "s1") == second)
        #expect(try await database.latestTicket(sessionID: "s1") == second)
    }

    @Test func theSchemaItselfAllowsOneOpenTicketPerSession() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2"])
        let first = try await open(database, "s1", at: .fixture(10))
        await #expect(throws: (any Error).self) {
            try await database.insertTicketUncheckedForTesting(newTicket("s1"), at: .fixture(11))
        }
        try await database.insertTicketUncheckedForTesting(newTicket("s2"), at: .fixture(12))
        _ = try await database.abandonTicket(id: first.id, at: .fixture(13))
        try await database.insertTicketUncheckedForTesting(newTicket("s1"), at: .fixture(14))
        #expect(try await database.openTickets().map(\.sessionID).sorted() == ["s1", "s2"])
    }

    @Test func aRefusedTicketRollsBackItsTurn() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder)
        await #expect(throws: StoreError.unknownSession(id: "ghost")) {
            try await database.openTicket(newTicket("ghost"), turn: turn("ghost", at: .fixture(5)), at: .fixture(5))
        }
        // Level 5 breaks the schema's CHECK after the turn was written: the turn must roll back with it.
        await #expect(throws: (any Error).self) {
            try await database.openTicket(newTicket("s1", level: 5), turn: turn("s1", at: .fixture(5)), at: .fixture(5))
        }
        #expect(try await database.messageCount() == 0)
        #expect(try await database.session(id: "s1")?.context == "{}")
        #expect(try await database.tickets(states: TicketState.allCases, limit: 10).isEmpty)
        #expect(try await database.openTicket(sessionID: "s1") == nil)
        #expect(try await database.latestTicket(sessionID: "s1") == nil)
    }

    // MARK: - The queue

    @Test func theQueueIsOrderedByLevelThenFrontThenTime() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["a", "b", "c", "d", "e", "f", "g"])
        let sam = try await addAgent(database, "Sam")
        let a = try await open(database, "a", at: .fixture(10), level: 1)
        let b = try await open(database, "b", at: .fixture(20), level: 3)
        let c = try await open(database, "c", at: .fixture(5), level: 1)
        let d = try await open(database, "d", at: .fixture(30), level: 1)
        let e = try await open(database, "e", at: .fixture(40), level: 3)
        let f = try await open(database, "f", at: .fixture(1), level: 0)
        let g = try await open(database, "g", at: .fixture(10), level: 1)  // same time as a: id decides
        #expect(try await database.openTickets().map(\.id) == [b, e, c, a, g, d, f].map(\.id))

        // d is claimed, then put back at the front: it jumps ahead of its level but not of higher levels.
        _ = try await database.claimTicket(id: d.id, agentID: sam.id, agentName: "Sam", at: .fixture(50))
        _ = try await database.requeueTicket(id: d.id, front: true, skill: nil, at: .fixture(60))
        // a is put back, not at the front: it goes behind the others of its level.
        _ = try await database.requeueTicket(id: a.id, front: false, skill: nil, at: .fixture(70))
        // e is assigned (still open, still listed); c is closed (gone).
        _ = try await database.claimTicket(id: e.id, agentID: sam.id, agentName: "Sam", at: .fixture(80))
        _ = try await database.closeTicket(id: c.id, resolution: "ok", at: .fixture(90))
        let queue = try await database.openTickets()
        #expect(queue.map(\.id) == [b, e, d, g, a, f].map(\.id))
        #expect(queue.map(\.state) == [.waiting, .assigned, .waiting, .waiting, .waiting, .waiting])
    }

    @Test func ticketsAreListedNewestFirstByState() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["a", "b", "c", "d"])
        let a = try await open(database, "a", at: .fixture(10))
        let b = try await open(database, "b", at: .fixture(20))
        let c = try await open(database, "c", at: .fixture(30))
        let d = try await open(database, "d", at: .fixture(40))
        _ = try await database.closeTicket(id: a.id, resolution: "ok", at: .fixture(50))
        _ = try await database.abandonTicket(id: c.id, at: .fixture(60))
        #expect(try await database.tickets(states: TicketState.allCases, limit: 10).map(\.id) == [d, c, b, a].map(\.id))
        #expect(try await database.tickets(states: TicketState.allCases, limit: 2).map(\.id) == [d, c].map(\.id))
        #expect(try await database.tickets(states: [.closed, .abandoned], limit: 10).map(\.id) == [c, a].map(\.id))
        #expect(try await database.tickets(states: [.waiting], limit: 10).map(\.id) == [d, b].map(\.id))
        #expect(try await database.tickets(states: [.assigned], limit: 10).isEmpty)
        #expect(try await database.tickets(states: [], limit: 10).isEmpty)
        #expect(try await database.tickets(states: TicketState.allCases, limit: 0).isEmpty)
    }

    // MARK: - State rules

    @Test func onlyAWaitingTicketCanBeClaimed() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2"])
        let sam = try await addAgent(database, "Sam")
        let kim = try await addAgent(database, "Kim")
        let ticket = try await open(database, "s1", at: .fixture(10))

        let claimed = try #require(
            try await database.claimTicket(id: ticket.id, agentID: sam.id, agentName: "Sam", at: .fixture(25)))
        var expected = ticket
        expected.state = .assigned
        expected.agentID = sam.id
        expected.agentName = "Sam"
        expected.claimedAt = .fixture(25)
        #expect(claimed == expected)

        // Already assigned: refused, nothing changes.
        #expect(try await database.claimTicket(id: ticket.id, agentID: kim.id, agentName: "Kim", at: .fixture(30)) == nil)
        #expect(try await database.ticket(id: ticket.id) == claimed)
        // Unknown ticket.
        #expect(try await database.claimTicket(id: 9_999, agentID: kim.id, agentName: "Kim", at: .fixture(30)) == nil)
        // Closed and abandoned tickets.
        _ = try await database.closeTicket(id: ticket.id, resolution: "ok", at: .fixture(40))
        #expect(try await database.claimTicket(id: ticket.id, agentID: kim.id, agentName: "Kim", at: .fixture(50)) == nil)
        #expect(try await database.ticket(id: ticket.id)?.agentName == "Sam")
        let other = try await open(database, "s2", at: .fixture(60))
        _ = try await database.abandonTicket(id: other.id, at: .fixture(61))
        #expect(try await database.claimTicket(id: other.id, agentID: kim.id, agentName: "Kim", at: .fixture(62)) == nil)
        #expect(try await database.ticket(id: other.id)?.state == .abandoned)
    }

    @Test func requeueingPutsAnOpenTicketBackInTheQueue() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2"])
        let sam = try await addAgent(database, "Sam", skills: ["billing"])
        let ticket = try await open(database, "s1", at: .fixture(10))
        _ = try await database.claimTicket(id: ticket.id, agentID: sam.id, agentName: "Sam", at: .fixture(20))

        let requeued = try #require(
            try await database.requeueTicket(id: ticket.id, front: true, skill: " Billing ", at: .fixture(30)))
        #expect(requeued.state == .waiting)
        #expect(requeued.agentID == nil)
        #expect(requeued.agentName == nil)
        #expect(requeued.previousAgentID == sam.id)
        #expect(requeued.queuedAt == .fixture(30))
        #expect(requeued.createdAt == .fixture(10))
        #expect(requeued.claimedAt == .fixture(20))
        #expect(requeued.front == true)
        #expect(requeued.skill == "billing")
        #expect(try await database.ticket(id: ticket.id) == requeued)

        // Requeueing a waiting ticket keeps its previous agent; nil clears the skill.
        let again = try #require(
            try await database.requeueTicket(id: ticket.id, front: false, skill: nil, at: .fixture(40)))
        #expect(again.previousAgentID == sam.id)
        #expect(again.skill == nil)
        #expect(again.front == false)
        #expect(again.queuedAt == .fixture(40))

        // A new claim keeps the required skill only until the next requeue, and leaves the queue's front.
        _ = try await database.requeueTicket(id: ticket.id, front: true, skill: "billing", at: .fixture(45))
        let reclaimed = try #require(
            try await database.claimTicket(id: ticket.id, agentID: sam.id, agentName: "Sam", at: .fixture(50)))
        #expect(reclaimed.skill == "billing")
        #expect(reclaimed.front == false)

        // Closed, abandoned and unknown tickets stay where they are.
        _ = try await database.closeTicket(id: ticket.id, resolution: "ok", at: .fixture(60))
        #expect(try await database.requeueTicket(id: ticket.id, front: true, skill: nil, at: .fixture(70)) == nil)
        #expect(try await database.ticket(id: ticket.id)?.state == .closed)
        let other = try await open(database, "s2", at: .fixture(80))
        _ = try await database.abandonTicket(id: other.id, at: .fixture(81))
        #expect(try await database.requeueTicket(id: other.id, front: true, skill: nil, at: .fixture(82)) == nil)
        #expect(try await database.ticket(id: other.id)?.state == .abandoned)
        #expect(try await database.requeueTicket(id: 9_999, front: true, skill: nil, at: .fixture(82)) == nil)
    }

    @Test func closingAndAbandoningOnlyApplyToOpenTickets() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2", "s3"])
        let sam = try await addAgent(database, "Sam")

        // Assigned → closed, keeping the agent.
        let one = try await open(database, "s1", at: .fixture(10))
        _ = try await database.claimTicket(id: one.id, agentID: sam.id, agentName: "Sam", at: .fixture(20))
        let closed = try #require(
            try await database.closeTicket(id: one.id, resolution: "Refunded, receipt to \(Self.email)", at: .fixture(30)))
        #expect(closed.state == .closed)
        #expect(closed.closedAt == .fixture(30))
        #expect(closed.resolution == "Refunded, receipt to [email]")
        #expect(closed.agentID == sam.id)
        #expect(try await database.closeTicket(id: one.id, resolution: "again", at: .fixture(40)) == nil)
        #expect(try await database.abandonTicket(id: one.id, at: .fixture(40)) == nil)
        #expect(try await database.ticket(id: one.id) == closed)

        // Waiting → abandoned.
        let two = try await open(database, "s2", at: .fixture(50))
        let abandoned = try #require(try await database.abandonTicket(id: two.id, at: .fixture(60)))
        #expect(abandoned.state == .abandoned)
        #expect(abandoned.closedAt == .fixture(60))
        #expect(try await database.closeTicket(id: two.id, resolution: "late", at: .fixture(70)) == nil)
        #expect(try await database.abandonTicket(id: two.id, at: .fixture(70)) == nil)
        #expect(try await database.ticket(id: two.id) == abandoned)

        // Waiting → closed (e.g. the server resolved it).
        let three = try await open(database, "s3", at: .fixture(80))
        #expect(try await database.closeTicket(id: three.id, resolution: "", at: .fixture(90))?.state == .closed)

        #expect(try await database.closeTicket(id: 9_999, resolution: "x", at: .fixture(90)) == nil)
        #expect(try await database.abandonTicket(id: 9_999, at: .fixture(90)) == nil)
        #expect(try await database.openTickets().isEmpty)
        #expect(TicketState.allCases.filter(\.isOpen) == [.waiting, .assigned])
    }

    @Test func ofManyConcurrentClaimsExactlyOneWins() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder)
        var agents: [Agent] = []
        for index in 0..<20 { agents.append(try await addAgent(database, "agent-\(index)")) }
        let ticket = try await open(database, "s1", at: .fixture(10))

        let winners = try await withThrowingTaskGroup(of: Ticket?.self) { group in
            for agent in agents {
                group.addTask {
                    try await database.claimTicket(id: ticket.id, agentID: agent.id, agentName: agent.name,
                                                   at: .fixture(20))
                }
            }
            var winners: [Ticket] = []
            for try await result in group { if let result { winners.append(result) } }
            return winners
        }
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        #expect(try await database.ticket(id: ticket.id) == winner)
        #expect(agents.contains { $0.id == winner.agentID && $0.name == winner.agentName })
    }

    // MARK: - Ratings and privacy

    @Test func onlyAClosedTicketCanBeRatedAndOnlyOnce() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2"])
        let ticket = try await open(database, "s1", at: .fixture(10))
        #expect(try await database.rateTicket(id: ticket.id, score: 5, comment: nil, at: .fixture(11)) == nil)
        _ = try await database.closeTicket(id: ticket.id, resolution: "ok", at: .fixture(20))

        for score in [0, 6, -1] {
            await #expect(throws: StoreError.invalidRating(score: score)) {
                try await database.rateTicket(id: ticket.id, score: score, comment: "x", at: .fixture(30))
            }
        }
        #expect(StoreError.invalidRating(score: 6).description.contains("1 to 5"))
        #expect(try await database.ticket(id: ticket.id)?.rating == nil)

        let rated = try #require(try await database.rateTicket(
            id: ticket.id, score: 4, comment: "  Great, reply to \(Self.email)  ", at: .fixture(40)))
        #expect(rated.rating == 4)
        #expect(rated.ratingComment == "Great, reply to [email]")
        #expect(rated.ratedAt == .fixture(40))
        #expect(try await database.ticket(id: ticket.id) == rated)
        #expect(try await database.rateTicket(id: ticket.id, score: 1, comment: "changed", at: .fixture(50)) == nil)
        #expect(try await database.ticket(id: ticket.id) == rated)

        let other = try await open(database, "s2", at: .fixture(60))
        _ = try await database.abandonTicket(id: other.id, at: .fixture(61))
        #expect(try await database.rateTicket(id: other.id, score: 3, comment: nil, at: .fixture(62)) == nil)
        #expect(try await database.rateTicket(id: 9_999, score: 3, comment: nil, at: .fixture(62)) == nil)
        // A blank comment is no comment.
        let third = try await database.openTicket(newTicket("s2"), turn: turn("s2", at: .fixture(70)), at: .fixture(70))
        _ = try await database.closeTicket(id: third.id, resolution: "ok", at: .fixture(71))
        #expect(try await database.rateTicket(id: third.id, score: 3, comment: "   ", at: .fixture(72))?.ratingComment == nil)
    }

    @Test func handoffTextsNeverReachTheFileUnmasked() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("bot.sqlite")
        let database = try await makeDatabase(in: folder)
        let ticket = try await database.openTicket(
            newTicket("s1", preview: "preview \(Self.email) MARKER-PREVIEW"),
            turn: turn("s1", at: .fixture(10), text: "turn \(Self.email)"), at: .fixture(10))
        _ = try await database.append([
            TranscriptEntry(sessionID: "s1", at: .fixture(11), speaker: .agent, text: "agent \(Self.email)",
                            ticketID: ticket.id, author: "Sam"),
        ], sessionID: "s1", at: .fixture(11))
        _ = try await database.closeTicket(id: ticket.id, resolution: "resolution \(Self.email)", at: .fixture(12))
        let rated = try await database.rateTicket(
            id: ticket.id, score: 5, comment: "comment \(Self.email) MARKER-COMMENT", at: .fixture(13))
        #expect(rated?.preview == "preview [email] MARKER-PREVIEW")
        #expect(rated?.resolution == "resolution [email]")
        #expect(rated?.ratingComment == "comment [email] MARKER-COMMENT")
        try await database.checkpoint()
        try database.close()

        let files = ["", "-wal", "-shm"].compactMap { FileManager.default.contents(atPath: path + $0) }
        func contains(_ text: String) -> Bool { files.contains { $0.range(of: Data(text.utf8)) != nil } }
        #expect(contains("MARKER-PREVIEW"), "the search must be able to find stored text")
        #expect(contains("MARKER-COMMENT"))
        #expect(!contains(Self.email))
        #expect(!contains("jane.doe"))
    }

    // MARK: - History

    @Test func theLastHelpingAgentIsFound() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["s1", "s2"])
        let sam = try await addAgent(database, "Sam")
        let kim = try await addAgent(database, "Kim")
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == nil)

        let ticket = try await open(database, "s1", at: .fixture(10))
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == nil)
        _ = try await database.claimTicket(id: ticket.id, agentID: sam.id, agentName: "Sam", at: .fixture(20))
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == sam.id)
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture(20)) == sam.id)
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture(21)) == nil)
        #expect(try await database.lastHelpingAgentID(sessionID: "s2", since: .fixture()) == nil)

        // Back in the queue: the agent who had it.
        _ = try await database.requeueTicket(id: ticket.id, front: true, skill: nil, at: .fixture(30))
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == sam.id)

        _ = try await database.claimTicket(id: ticket.id, agentID: kim.id, agentName: "Kim", at: .fixture(40))
        _ = try await database.closeTicket(id: ticket.id, resolution: "ok", at: .fixture(50))
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == kim.id)

        // A newer ticket nobody claimed does not hide the older one.
        let newer = try await open(database, "s1", at: .fixture(60))
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == kim.id)
        // A newer claim wins.
        _ = try await database.claimTicket(id: newer.id, agentID: sam.id, agentName: "Sam", at: .fixture(70))
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == sam.id)

        // Removed agents are never returned.
        #expect(try await database.removeAgent(named: "Sam"))
        #expect(try await database.lastHelpingAgentID(sessionID: "s1", since: .fixture()) == kim.id)
    }

    @Test func recentPickupTimesAreNewestFirst() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["a", "b", "c", "d"])
        let sam = try await addAgent(database, "Sam")
        #expect(try await database.recentPickupSeconds(limit: 10, since: .fixture()).isEmpty)

        let a = try await open(database, "a", at: .fixture(0))
        let b = try await open(database, "b", at: .fixture(10))
        let c = try await open(database, "c", at: .fixture(20))
        _ = try await open(database, "d", at: .fixture(25))  // never claimed
        _ = try await database.claimTicket(id: a.id, agentID: sam.id, agentName: "Sam", at: .fixture(30))   // 30 s
        _ = try await database.claimTicket(id: b.id, agentID: sam.id, agentName: "Sam", at: .fixture(100))  // 90 s
        _ = try await database.claimTicket(id: c.id, agentID: sam.id, agentName: "Sam", at: .fixture(105))  // 85 s
        _ = try await database.closeTicket(id: a.id, resolution: "ok", at: .fixture(110))
        #expect(try await database.recentPickupSeconds(limit: 10, since: .fixture()) == [85, 90, 30])
        #expect(try await database.recentPickupSeconds(limit: 2, since: .fixture()) == [85, 90])
        #expect(try await database.recentPickupSeconds(limit: 10, since: .fixture(100)) == [85, 90])
        #expect(try await database.recentPickupSeconds(limit: 0, since: .fixture()).isEmpty)

        // Put back in the queue, c does not count until it is claimed again; then it counts its new wait.
        _ = try await database.requeueTicket(id: c.id, front: false, skill: nil, at: .fixture(120))
        #expect(try await database.recentPickupSeconds(limit: 10, since: .fixture()) == [90, 30])
        _ = try await database.claimTicket(id: c.id, agentID: sam.id, agentName: "Sam", at: .fixture(160))
        #expect(try await database.recentPickupSeconds(limit: 10, since: .fixture()) == [40, 90, 30])
    }

    @Test func removingAnAgentPutsItsTicketsBackAtTheFront() async throws {
        let folder = try TemporaryFolder()
        let database = try await makeDatabase(in: folder, sessions: ["a", "b", "c"])
        let sam = try await addAgent(database, "Sam")
        let kim = try await addAgent(database, "Kim")
        let old = try await open(database, "a", at: .fixture(0))
        _ = try await database.claimTicket(id: old.id, agentID: sam.id, agentName: "Sam", at: .fixture(5))
        _ = try await database.closeTicket(id: old.id, resolution: "ok", at: .fixture(6))
        let waiting = try await open(database, "b", at: .fixture(10))
        let held = try await open(database, "c", at: .fixture(20))
        _ = try await database.claimTicket(id: held.id, agentID: sam.id, agentName: "Sam", at: .fixture(30))
        let kimsTicket = try await database.openTicket(sessionID: "b")
        #expect(kimsTicket == waiting)
        _ = try await database.claimTicket(id: waiting.id, agentID: kim.id, agentName: "Kim", at: .fixture(31))
        _ = try await database.requeueTicket(id: waiting.id, front: false, skill: nil, at: .fixture(32))

        #expect(try await database.removeAgent(named: "Sam"))
        let requeued = try #require(try await database.ticket(id: held.id))
        #expect(requeued.state == .waiting)
        #expect(requeued.front == true)
        #expect(requeued.agentID == nil)
        #expect(requeued.agentName == nil)
        #expect(requeued.queuedAt == .fixture(20))
        #expect(try await database.openTickets().map(\.id) == [held.id, waiting.id])
        // Kim's history is untouched; the closed ticket keeps Sam's name but not the removed id.
        #expect(try await database.ticket(id: waiting.id)?.previousAgentID == kim.id)
        let closed = try #require(try await database.ticket(id: old.id))
        #expect(closed.state == .closed)
        #expect(closed.agentID == nil)
        #expect(closed.agentName == "Sam")
    }

    // MARK: - Restart and upgrade

    @Test func reopeningTheFileKeepsTicketsAndAgents() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("bot.sqlite")
        let sam: Agent
        let ticket: Ticket?
        let transcript: [TranscriptEntry]
        do {
            let database = try await makeDatabase(in: folder)
            sam = try await database.addAgent(name: "Sam", skills: ["billing"], tokenHash: "h-sam", at: Date())
            let opened = try await open(database, "s1", at: Date())
            ticket = try await database.claimTicket(id: opened.id, agentID: sam.id, agentName: "Sam", at: Date())
            _ = try await database.append([
                TranscriptEntry(sessionID: "s1", at: Date(), speaker: .agent, text: "Hello", ticketID: opened.id,
                                author: "Sam"),
            ], sessionID: "s1", at: Date())
            transcript = try await database.transcript(sessionID: "s1")
            try database.close()
        }
        #expect(ticket != nil)
        let reopened = try SupportBotDatabase.open(path: path)
        #expect(try await reopened.agents() == [sam])
        #expect(try await reopened.agent(tokenHash: "h-sam") == sam)
        #expect(try await reopened.openTickets() == [ticket].compactMap { $0 })
        #expect(try await reopened.transcript(sessionID: "s1") == transcript)
        #expect(transcript.count == 3)
        #expect(transcript.last?.author == "Sam")
    }

    @Test func aVersion1FileIsUpgraded() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("bot.sqlite")
        do {
            let old = try SupportBotDatabase.open(path: path, upTo: "v1-knowledge-versions")
            #expect(try await old.appliedMigrations() == ["v1-sessions-transcripts", "v1-knowledge-versions"])
            try await old.createSession(id: "s1", at: .fixture(), kbVersion: 1, context: #"{"old":true}"#)
            try old.close()
        }
        let database = try SupportBotDatabase.open(path: path)
        #expect(try await database.appliedMigrations() == ["v1-sessions-transcripts", "v1-knowledge-versions",
                                                            "v2-handoff", "v3-drop-session-updatedAt-index",
                                                            "v4-ticket-reply-email"])
        #expect(try await database.session(id: "s1")?.context == #"{"old":true}"#)
        let ticket = try await open(database, "s1", at: .fixture(10))
        #expect(try await database.transcript(sessionID: "s1").map(\.ticketID) == [ticket.id, ticket.id])
        _ = try await addAgent(database, "Sam")
        #expect(try await database.agents().map(\.name) == ["Sam"])
    }
}

@Suite("Unanswered messages in the store")
struct UnansweredStoreTests {
    @Test("fallbacks, clarifies and handoffs are found, newest first; answered ones are not")
    func unanswered() async throws {
        let folder = try TemporaryFolder()
        let db = try SupportBotDatabase.open(path: folder.file("u.sqlite"))
        try await db.createSession(id: "s-1", at: Date(timeIntervalSince1970: 1_000), kbVersion: 1, context: "{}")
        func turn(_ text: String, _ action: TranscriptAction, at seconds: Double,
                  customerAction: TranscriptAction? = nil) async throws {
            let at = Date(timeIntervalSince1970: seconds)
            try await db.record(ChatTurn(sessionID: "s-1", context: "{}", kbVersion: 1, entries: [
                TranscriptEntry(sessionID: "s-1", at: at, speaker: .customer, text: text, action: customerAction),
                TranscriptEntry(sessionID: "s-1", at: at, speaker: .bot, text: "reply", action: action),
            ], at: at))
        }
        try await turn("where is my order", .answer, at: 1_001)
        try await turn("do you sell bikes", .fallback, at: 1_002)
        try await turn("card", .clarify, at: 1_003)
        try await turn("my e-mail is ann@example.com, help", .fallback, at: 1_004)
        let all = try await db.unansweredMessages(since: nil)
        #expect(all.map(\.text) == ["my e-mail is [email], help", "card", "do you sell bikes"])
        #expect(all.map(\.outcome) == ["fallback", "clarify", "fallback"])
        let recent = try await db.unansweredMessages(since: Date(timeIntervalSince1970: 1_003))
        #expect(recent.count == 2)
    }
}
