import Foundation
import Testing
@testable import SupportBotCore

/// The handoff's decisions on their own: no sockets, no database, no sleeps. Time is a value the test sets.
@Suite("Handoff queue")
struct HandoffQueueTests {
    /// Monday 2026-12-07 10:00 UTC.
    static let monday10 = Date(timeIntervalSince1970: 1_796_637_600)
    static let utc = TimeZone(identifier: "UTC")!
    /// Open 9–17 on weekdays, in UTC.
    static let officeHours: OpeningHours = {
        var days: [Int: [Range<Int>]] = [:]
        for weekday in 2...6 { days[weekday] = [540..<1020] }
        return OpeningHours(days: days, timeZone: utc)
    }()

    static func at(_ seconds: Double, hours: OpeningHours = .always) -> HandoffQueue.Moment {
        .init(now: monday10.addingTimeInterval(seconds), hours: hours)
    }

    static func waiting(_ id: Int64, tags: [String] = [], skill: String? = nil, queuedAt: Double = 0)
        -> HandoffQueue.QueuedTicket {
        .init(id: id, holder: .nobody, skill: skill, tags: tags, queuedAt: monday10.addingTimeInterval(queuedAt))
    }

    static let sam = HandoffQueue.Member(id: 1, name: "Sam", skills: [])
    static let bea = HandoffQueue.Member(id: 2, name: "Bea", skills: ["billing"])

    @Test("the office clock is what the tests think it is")
    func fixtureClock() {
        #expect(Self.officeHours.isOpen(at: Self.monday10))
        #expect(!Self.officeHours.isOpen(at: Self.monday10.addingTimeInterval(8 * 3600)))
    }

    @Test("places count waiting tickets only; waits are average pickup × place ÷ agents online, rounded up")
    func placesAndWaits() {
        var queue = HandoffQueue(pickupSeconds: [60, 180])
        let line = [Self.waiting(1), .init(id: 2, holder: .agent(1), queuedAt: Self.monday10), Self.waiting(3)]
        #expect(queue.place(of: 1, in: line, at: Self.at(0)) == .init(position: 1, waitMinutes: 2))
        #expect(queue.place(of: 3, in: line, at: Self.at(0)) == .init(position: 2, waitMinutes: 4))
        queue.agentLoggedIn(Self.sam, holding: [])
        queue.agentLoggedIn(Self.bea, holding: [])
        #expect(queue.place(of: 3, in: line, at: Self.at(0)).waitMinutes == 2)
        // An agent who is away does not shorten the wait.
        queue.setStatus(.away, of: 2)
        #expect(queue.place(of: 3, in: line, at: Self.at(0)).waitMinutes == 4)
        // Before any pickup, the default (3 minutes) is assumed; never less than a minute.
        #expect(HandoffQueue().waitMinutes(position: 1, at: Self.at(0)) == 3)
        #expect(HandoffQueue(pickupSeconds: [1]).waitMinutes(position: 1, at: Self.at(0)) == 1)
    }

    @Test("out of hours with nobody online the team is away, and the wait runs to the opening")
    func awayWaitsForTheOpening() {
        var queue = HandoffQueue(pickupSeconds: [60])
        let evening = Self.at(8 * 3600, hours: Self.officeHours)  // Monday 18:00
        #expect(queue.isAway(at: evening))
        #expect(queue.backAt(evening) == "tomorrow at 9 am")
        // 15 hours to Tuesday 9:00, plus a minute's pickup.
        #expect(queue.waitMinutes(position: 1, at: evening) == 15 * 60 + 1)
        queue.agentLoggedIn(Self.sam, holding: [])
        #expect(!queue.isAway(at: evening), "someone online: the team is there whatever the hours say")
        #expect(!queue.isAway(at: Self.at(0, hours: Self.officeHours)))
    }

    @Test("tickets go to agents with the skill; when nobody online has it, anyone may take it")
    func routing() {
        var queue = HandoffQueue()
        queue.agentLoggedIn(Self.sam, holding: [])
        let billing = Self.waiting(7, tags: ["billing"])
        let line = [billing, Self.waiting(8)]
        #expect(queue.mayTake(1, billing), "nobody with billing is online")
        queue.agentLoggedIn(Self.bea, holding: [])
        #expect(!queue.mayTake(1, billing))
        #expect(queue.mayTake(2, billing))
        #expect(queue.nextTicket(for: 1, in: line)?.id == 8)
        #expect(queue.nextTicket(for: 2, in: line)?.id == 7)
        #expect(queue.audience(for: billing) == [2])
        #expect(queue.audience(for: Self.waiting(8)) == [1, 2])
        #expect(queue.audience(for: Self.waiting(8), except: 1) == [2])
        // A transfer's skill wins over the topic's tags.
        #expect(queue.mayTake(1, Self.waiting(9, tags: ["billing"], skill: "returns")),
                "nobody online has 'returns'")
        queue.setStatus(.away, of: 2)
        #expect(queue.mayTake(1, billing), "Bea is away: Sam may take it")
        #expect(queue.audience(for: billing) == [1])
        #expect(!queue.mayTake(99, billing), "not logged in")
    }

    @Test("a ticket being opened is neither offered nor claimable until the customer has been told")
    func openingTickets() {
        var queue = HandoffQueue()
        queue.agentLoggedIn(Self.sam, holding: [])
        queue.opening(5)
        #expect(queue.nextTicket(for: 1, in: [Self.waiting(5)]) == nil)
        queue.opened(5)
        #expect(queue.nextTicket(for: 1, in: [Self.waiting(5)])?.id == 5)
    }

    @Test("a waiting customer who drops has a grace period; coming back calls it off; 'bye' abandons at once")
    func customerGrace() {
        var queue = HandoffQueue()
        queue.opening(3)
        queue.opened(3)
        let gone = queue.customerLeft(Self.waiting(3), saidBye: false, at: Self.at(10))
        #expect(gone == .waitForReturn(until: Self.monday10.addingTimeInterval(130)))
        #expect(queue.nextDeadline == Self.monday10.addingTimeInterval(130))
        #expect(queue.due(at: Self.monday10.addingTimeInterval(129)).isEmpty)
        queue.customerJoined(3)
        #expect(queue.deadlines.isEmpty)
        #expect(queue.customerLeft(Self.waiting(3), saidBye: true, at: Self.at(20)) == .abandon)
        #expect(queue.deadlines.isEmpty)
        _ = queue.customerLeft(Self.waiting(3), saidBye: false, at: Self.at(30))
        #expect(queue.due(at: Self.monday10.addingTimeInterval(150)) == [.customerGrace(ticket: 3)])
        #expect(queue.due(at: Self.monday10.addingTimeInterval(150)).isEmpty, "a deadline is acted on once")
    }

    @Test("out of hours a customer who drops is not abandoned; with a person, the person is told")
    func customerLeavesOutOfHoursOrWithAPerson() {
        var queue = HandoffQueue()
        let evening = Self.at(8 * 3600, hours: Self.officeHours)
        #expect(queue.customerLeft(Self.waiting(4), saidBye: false, at: evening) == .waitForTeam)
        let withSam = HandoffQueue.QueuedTicket(id: 4, holder: .agent(1), queuedAt: Self.monday10)
        #expect(queue.customerLeft(withSam, saidBye: false, at: Self.at(0)) == .tellAgent(1))
        #expect(queue.customerLeft(withSam, saidBye: true, at: Self.at(0)) == .tellAgent(1))
        #expect(queue.deadlines.isEmpty)
    }

    @Test("a claim calls off the customer's grace period: a chat a person took is never abandoned")
    func claimEndsCustomerGrace() {
        var queue = HandoffQueue()
        queue.agentLoggedIn(Self.sam, holding: [])
        _ = queue.customerLeft(Self.waiting(6), saidBye: false, at: Self.at(0))
        queue.claimed(Self.waiting(6), by: 1, at: Self.monday10.addingTimeInterval(45), agentConnected: true)
        #expect(queue.deadlines.isEmpty)
        #expect(queue.pickupSeconds == [45])
        // A claim at the moment of queueing (a transfer to a named agent) is not a pickup.
        queue.claimed(Self.waiting(7, queuedAt: 60), by: 1, at: Self.monday10.addingTimeInterval(60), agentConnected: true)
        #expect(queue.pickupSeconds == [45])
        // Only the latest pickups count.
        for second in 1...30 {
            queue.claimed(Self.waiting(8), by: 1, at: Self.monday10.addingTimeInterval(Double(second)), agentConnected: true)
        }
        #expect(queue.pickupSeconds.count == HandoffQueue.pickupsKept)
        #expect(queue.pickupSeconds.first == 30)
    }

    @Test("an agent who drops keeps their chats for the grace period; logging in again calls it off")
    func agentGrace() {
        var queue = HandoffQueue()
        queue.agentLoggedIn(Self.sam, holding: [])
        queue.agentLeft(1, holding: [11, 12], at: Self.monday10)
        #expect(queue.members[1] == nil)
        #expect(queue.deadlines == [.agentGrace(ticket: 11): Self.monday10.addingTimeInterval(30),
                                    .agentGrace(ticket: 12): Self.monday10.addingTimeInterval(30)])
        queue.agentLoggedIn(Self.sam, holding: [11])
        #expect(Array(queue.deadlines.keys) == [.agentGrace(ticket: 12)])
        #expect(queue.due(at: Self.monday10.addingTimeInterval(30)) == [.agentGrace(ticket: 12)])
        // Not back in time: the chat is in line again, and its customer, who left meanwhile, gets their grace.
        queue.agentDidNotReturn(12, at: Self.at(30))
        #expect(queue.deadlines == [.customerGrace(ticket: 12): Self.monday10.addingTimeInterval(150)])
        // A customer still connected has no grace period to run.
        queue.customerJoined(11)
        queue.agentDidNotReturn(11, at: Self.at(30))
        #expect(queue.deadlines[.customerGrace(ticket: 11)] == nil)
        // An agent who dropped while their claim was written gets the grace period from the claim.
        queue.claimed(Self.waiting(13), by: 2, at: Self.monday10, agentConnected: false)
        #expect(queue.deadlines[.agentGrace(ticket: 13)] == Self.monday10.addingTimeInterval(30))
    }

    @Test("a customer who is gone (the ticket not yet read back) counts as gone: an agent's grace ending starts theirs")
    func customerGoneBeforeTheDecision() {
        var queue = HandoffQueue()
        queue.opening(21)
        queue.opened(21)
        queue.agentLeft(1, holding: [21], at: Self.monday10)
        queue.customerGone(21)
        #expect(!queue.customersOnline.contains(21))
        queue.agentDidNotReturn(21, at: Self.at(30))
        #expect(queue.deadlines[.customerGrace(ticket: 21)] == Self.monday10.addingTimeInterval(150))
    }

    @Test("deadlines come due earliest first, and a closed ticket's deadlines are gone")
    func deadlinesInOrder() {
        var timings = HandoffTimings()
        timings.agentGraceSeconds = 10
        timings.customerGraceSeconds = 5
        var queue = HandoffQueue(timings: timings)
        queue.agentLeft(1, holding: [1], at: Self.monday10)
        _ = queue.customerLeft(Self.waiting(2), saidBye: false, at: Self.at(0))
        _ = queue.customerLeft(Self.waiting(3), saidBye: false, at: Self.at(1))
        #expect(queue.nextDeadline == Self.monday10.addingTimeInterval(5))
        queue.ended(2)
        #expect(queue.due(at: Self.monday10.addingTimeInterval(60)) == [.customerGrace(ticket: 3), .agentGrace(ticket: 1)])
        #expect(queue.nextDeadline == nil)
    }

    @Test("customers are told their place when it changes, not again when it doesn't")
    func movedPlaces() {
        var queue = HandoffQueue(pickupSeconds: [60])
        for id: Int64 in [1, 2, 3] { queue.customerJoined(id) }
        var line = [Self.waiting(1), Self.waiting(2), Self.waiting(3)]
        queue.told(.init(position: 1, waitMinutes: 1), ticket: 1)
        queue.told(.init(position: 2, waitMinutes: 2), ticket: 2)
        // Ticket 3's customer was never told: they are now.
        #expect(queue.movedPlaces(in: line, except: nil, at: Self.at(0)).map(\.ticket) == [3])
        #expect(queue.movedPlaces(in: line, except: nil, at: Self.at(0)).isEmpty)
        line.removeFirst()
        let moved = queue.movedPlaces(in: line, except: nil, at: Self.at(0))
        #expect(moved.map(\.ticket) == [2, 3])
        #expect(moved.map(\.place.position) == [1, 2])
        // A customer who is not connected is not told.
        _ = queue.customerLeft(Self.waiting(3), saidBye: false, at: Self.at(0))
        #expect(queue.movedPlaces(in: [Self.waiting(3)], except: nil, at: Self.at(0)).isEmpty)
    }

    @Test("a returning customer's agent is found only while they are online")
    func returningAgent() {
        var queue = HandoffQueue()
        #expect(queue.returningAgent(1) == nil)
        queue.agentLoggedIn(Self.sam, holding: [])
        #expect(queue.returningAgent(1)?.name == "Sam")
        #expect(queue.returningAgent(nil) == nil)
        queue.setStatus(.away, of: 1)
        #expect(queue.returningAgent(1) == nil)
    }

    @Test("after a restart: chats with an agent wait for them; waiting chats wait for their customers, unless the team is away")
    func resume() {
        var queue = HandoffQueue()
        let line = [HandoffQueue.QueuedTicket(id: 1, holder: .agent(4), queuedAt: Self.monday10), Self.waiting(2)]
        queue.resume(line, at: Self.at(0))
        #expect(queue.deadlines == [.agentGrace(ticket: 1): Self.monday10.addingTimeInterval(30),
                                    .customerGrace(ticket: 2): Self.monday10.addingTimeInterval(120)])
        var evening = HandoffQueue()
        evening.resume(line, at: Self.at(8 * 3600, hours: Self.officeHours))
        #expect(Array(evening.deadlines.keys) == [.agentGrace(ticket: 1)])
    }
}
