import Foundation

/// Timings of the human handoff. Defaults suit a small team.
public struct HandoffTimings: Sendable, Equatable {
    /// An agent who drops mid-chat keeps their tickets this long, then the tickets go back to the front.
    public var agentGraceSeconds: Double = 30
    /// A waiting customer who drops is abandoned after this long, unless they come back with `hello`.
    public var customerGraceSeconds: Double = 120
    /// A returning customer goes back to the agent who helped them within this window (sticky agent).
    public var stickyWindowSeconds: Double = 86_400
    /// Pickup time assumed for wait estimates before any ticket has been claimed.
    public var defaultPickupSeconds: Double = 180

    public init() {}
}

/// Agent availability.
public enum AgentStatus: String, Sendable {
    case online, away
}

/// The human side's decisions, with no I/O and no clock of its own: who is on the team's side right now, where each
/// waiting ticket stands, how long the wait is, who may take which ticket, and when grace periods end.
///
/// The server keeps one, tells it what happened (and when, with a `Moment`), and carries out what it answers:
/// it sends the messages and writes the tickets. The database stays the record of the tickets themselves; callers
/// pass the open tickets in queue order (`QueuedTicket`) to the questions that need them.
public struct HandoffQueue: Sendable {
    /// The time, and the opening hours in force (they change when a knowledge base is published).
    public struct Moment: Sendable {
        public var now: Date
        public var hours: OpeningHours

        public init(now: Date, hours: OpeningHours) {
            self.now = now
            self.hours = hours
        }
    }

    /// An agent who is logged in.
    public struct Member: Sendable, Equatable {
        public var id: Int64
        public var name: String
        /// Lowercased.
        public var skills: [String]
        public var status: AgentStatus

        public init(id: Int64, name: String, skills: [String], status: AgentStatus = .online) {
            self.id = id
            self.name = name
            self.skills = skills
            self.status = status
        }
    }

    /// An open ticket as the queue needs to know it.
    public struct QueuedTicket: Sendable, Equatable {
        public enum Holder: Sendable, Equatable {
            case nobody
            case agent(Int64)
        }

        public var id: Int64
        public var holder: Holder
        /// A skill the next agent must have (set by a transfer).
        public var skill: String?
        public var tags: [String]
        public var queuedAt: Date

        public init(id: Int64, holder: Holder, skill: String? = nil, tags: [String] = [], queuedAt: Date) {
            self.id = id
            self.holder = holder
            self.skill = skill
            self.tags = tags
            self.queuedAt = queuedAt
        }

        public var isWaiting: Bool { holder == .nobody }
    }

    /// Something that happens when its time comes unless it is called off.
    public enum Deadline: Hashable, Sendable {
        /// The agent holding the ticket dropped: it goes back to the front of the line.
        case agentGrace(ticket: Int64)
        /// The waiting customer dropped: the ticket is abandoned.
        case customerGrace(ticket: Int64)

        public var ticket: Int64 {
            switch self {
            case .agentGrace(let ticket), .customerGrace(let ticket): ticket
            }
        }
    }

    /// A waiting ticket's place in line (1 = next) and an honest estimate of the wait, in whole minutes.
    public struct Place: Sendable, Equatable {
        public var position: Int
        public var waitMinutes: Int

        public init(position: Int, waitMinutes: Int) {
            self.position = position
            self.waitMinutes = waitMinutes
        }
    }

    /// What to do when a customer with an open ticket drops.
    public enum CustomerGone: Sendable, Equatable {
        /// A person has the chat: tell them.
        case tellAgent(Int64)
        /// They said goodbye while waiting: the ticket is abandoned now.
        case abandon
        /// They may come back: the ticket waits until the grace period ends.
        case waitForReturn(until: Date)
        /// Out of hours with nobody there: the ticket waits for the team, as the customer was told.
        case waitForTeam
    }

    public let timings: HandoffTimings
    /// Logged-in agents.
    public private(set) var members: [Int64: Member] = [:]
    /// Tickets whose customer is connected.
    public private(set) var customersOnline: Set<Int64> = []
    public private(set) var deadlines: [Deadline: Date] = [:]
    /// The latest pickup times (seconds from queued to claimed), newest first; at most `pickupsKept`.
    public private(set) var pickupSeconds: [Double] = []
    /// Tickets being opened: stored, but the customer has not yet been told they are in line. Not offered or
    /// claimable yet, so "you are in line" always comes before "Sam has joined".
    public private(set) var opening: Set<Int64> = []
    /// The place each connected waiting customer was last told.
    private var toldPlaces: [Int64: Int] = [:]

    public static let pickupsKept = 20

    public init(timings: HandoffTimings = .init(), pickupSeconds: [Double] = []) {
        self.timings = timings
        self.pickupSeconds = Array(pickupSeconds.prefix(Self.pickupsKept))
    }

    // MARK: What happened

    /// After a restart: tickets with an agent give the agent time to log in again; waiting tickets give their
    /// customers time to come back (unless the team is away, when they wait for it).
    public mutating func resume(_ tickets: [QueuedTicket], at moment: Moment) {
        for ticket in tickets {
            switch ticket.holder {
            case .agent:
                deadlines[.agentGrace(ticket: ticket.id)] = moment.now.addingTimeInterval(timings.agentGraceSeconds)
            case .nobody where !customersOnline.contains(ticket.id) && !isAway(at: moment):
                deadlines[.customerGrace(ticket: ticket.id)] =
                    moment.now.addingTimeInterval(timings.customerGraceSeconds)
            case .nobody:
                break
            }
        }
    }

    /// An agent logged in; `holding` are the tickets assigned to them, which stop waiting for them.
    public mutating func agentLoggedIn(_ member: Member, holding: [Int64]) {
        members[member.id] = member
        for ticket in holding { deadlines[.agentGrace(ticket: ticket)] = nil }
    }

    /// An agent's connection is gone: each ticket they hold waits `agentGraceSeconds` for them.
    public mutating func agentLeft(_ id: Int64, holding: [Int64], at now: Date) {
        members[id] = nil
        for ticket in holding { deadlines[.agentGrace(ticket: ticket)] = now.addingTimeInterval(timings.agentGraceSeconds) }
    }

    public mutating func setStatus(_ status: AgentStatus, of id: Int64) {
        members[id]?.status = status
    }

    /// A ticket was stored and its customer is about to be told (see `opening`).
    public mutating func opening(_ ticket: Int64) {
        opening.insert(ticket)
    }

    /// The customer has been told: the ticket may be offered and claimed.
    public mutating func opened(_ ticket: Int64) {
        opening.remove(ticket)
    }

    /// The ticket's customer is connected (a new ticket, or back with `hello`).
    public mutating func customerJoined(_ ticket: Int64) {
        customersOnline.insert(ticket)
        deadlines[.customerGrace(ticket: ticket)] = nil
    }

    /// The ticket's customer is no longer connected; what follows is decided by `customerLeft` once the ticket
    /// has been read.
    public mutating func customerGone(_ ticket: Int64) {
        customersOnline.remove(ticket)
        toldPlaces[ticket] = nil
    }

    /// The ticket's customer dropped, or said goodbye.
    public mutating func customerLeft(_ ticket: QueuedTicket, saidBye: Bool, at moment: Moment) -> CustomerGone {
        customersOnline.remove(ticket.id)
        toldPlaces[ticket.id] = nil
        if case .agent(let agent) = ticket.holder { return .tellAgent(agent) }
        if saidBye { return .abandon }
        guard !isAway(at: moment) else { return .waitForTeam }
        let until = moment.now.addingTimeInterval(timings.customerGraceSeconds)
        deadlines[.customerGrace(ticket: ticket.id)] = until
        return .waitForReturn(until: until)
    }

    /// An agent took the ticket. A claim made the moment the ticket was queued (a transfer to a named agent, a
    /// returning customer's own agent) is not a pickup and does not count towards wait estimates.
    /// - Parameter agentConnected: false when the agent dropped while the claim was being written: their grace
    ///   period starts now.
    public mutating func claimed(_ ticket: QueuedTicket, by agent: Int64, at now: Date, agentConnected: Bool) {
        let waited = now.timeIntervalSince(ticket.queuedAt)
        if waited > 0 { pickupSeconds = Array(([waited] + pickupSeconds).prefix(Self.pickupsKept)) }
        toldPlaces[ticket.id] = nil
        deadlines[.customerGrace(ticket: ticket.id)] = nil
        deadlines[.agentGrace(ticket: ticket.id)] = nil
        if !agentConnected {
            deadlines[.agentGrace(ticket: ticket.id)] = now.addingTimeInterval(timings.agentGraceSeconds)
        }
    }

    /// The ticket's agent did not come back in time and it is at the front of the line again. A customer who is
    /// not connected now gets their grace period, as after any drop.
    public mutating func agentDidNotReturn(_ ticket: Int64, at moment: Moment) {
        requeued(ticket)
        if !customersOnline.contains(ticket) && !isAway(at: moment) {
            deadlines[.customerGrace(ticket: ticket)] = moment.now.addingTimeInterval(timings.customerGraceSeconds)
        }
    }

    /// An agent passed the chat back to the line for a skill. It waits for that skill's agents even when the
    /// customer is not connected; they read the reply when they come back to the chat.
    public mutating func transferredToSkill(_ ticket: Int64) {
        requeued(ticket)
    }

    private mutating func requeued(_ ticket: Int64) {
        deadlines[.agentGrace(ticket: ticket)] = nil
        toldPlaces[ticket] = nil
    }

    /// The ticket is closed or abandoned: the queue forgets it.
    public mutating func ended(_ ticket: Int64) {
        customersOnline.remove(ticket)
        toldPlaces[ticket] = nil
        opening.remove(ticket)
        deadlines[.agentGrace(ticket: ticket)] = nil
        deadlines[.customerGrace(ticket: ticket)] = nil
    }

    /// The customer was told this place.
    public mutating func told(_ place: Place, ticket: Int64) {
        toldPlaces[ticket] = place.position
    }

    /// The earliest deadline, for the server's one timer.
    public var nextDeadline: Date? { deadlines.values.min() }

    /// Deadlines whose time has come, earliest first; they are taken off the list.
    public mutating func due(at now: Date) -> [Deadline] {
        let due = deadlines.filter { $0.value <= now }
            .sorted { ($0.value, $0.key.ticket) < ($1.value, $1.key.ticket) }
            .map(\.key)
        for deadline in due { deadlines[deadline] = nil }
        return due
    }

    // MARK: Questions

    public var onlineCount: Int { members.values.filter { $0.status == .online }.count }

    /// Outside opening hours with no one online.
    public func isAway(at moment: Moment) -> Bool {
        !moment.hours.isOpen(at: moment.now) && !members.values.contains { $0.status == .online }
    }

    /// When people are back ("tomorrow at 9 am"); nil when the hours never open.
    public func backAt(_ moment: Moment) -> String? {
        moment.hours.nextOpening(after: moment.now).map { moment.hours.describe($0, from: moment.now) }
    }

    /// Average recent pickup time × place in line ÷ agents online, plus the time until opening when the team is
    /// away; rounded up to whole minutes, at least 1.
    public func waitMinutes(position: Int, at moment: Moment) -> Int {
        let average = pickupSeconds.isEmpty ? timings.defaultPickupSeconds
            : pickupSeconds.reduce(0, +) / Double(pickupSeconds.count)
        var seconds = average * Double(position) / Double(max(1, onlineCount))
        if isAway(at: moment), let opening = moment.hours.nextOpening(after: moment.now) {
            seconds += opening.timeIntervalSince(moment.now)
        }
        return max(1, Int((seconds / 60).rounded(.up)))
    }

    /// The ticket's place among the waiting tickets of `tickets` (open tickets in queue order).
    public func place(of id: Int64, in tickets: [QueuedTicket], at moment: Moment) -> Place {
        let waiting = tickets.filter(\.isWaiting)
        let position = (waiting.firstIndex { $0.id == id } ?? 0) + 1
        return Place(position: position, waitMinutes: waitMinutes(position: position, at: moment))
    }

    /// Connected waiting customers whose place changed since they were last told (all but `skipped`); each is
    /// marked as told.
    public mutating func movedPlaces(in tickets: [QueuedTicket], except skipped: Int64?,
                                     at moment: Moment) -> [(ticket: Int64, place: Place)] {
        var moved: [(ticket: Int64, place: Place)] = []
        for (index, ticket) in tickets.filter(\.isWaiting).enumerated() where ticket.id != skipped {
            let position = index + 1
            guard customersOnline.contains(ticket.id), toldPlaces[ticket.id] != position else { continue }
            let place = Place(position: position, waitMinutes: waitMinutes(position: position, at: moment))
            toldPlaces[ticket.id] = position
            moved.append((ticket.id, place))
        }
        return moved
    }

    /// Can this agent take this ticket? Tickets go to agents with a matching skill (a transfer's skill, else the
    /// topic's tags); when no one online has it, anyone may take it.
    public func mayTake(_ agent: Int64, _ ticket: QueuedTicket) -> Bool {
        guard let member = members[agent] else { return false }
        let needed = Set(ticket.skill.map { [$0] } ?? ticket.tags)
        if needed.isEmpty || !needed.isDisjoint(with: member.skills) { return true }
        return !members.values.contains { $0.status == .online && !needed.isDisjoint(with: $0.skills) }
    }

    /// The most urgent waiting ticket this agent may take.
    public func nextTicket(for agent: Int64, in tickets: [QueuedTicket]) -> QueuedTicket? {
        tickets.first { $0.isWaiting && !opening.contains($0.id) && mayTake(agent, $0) }
    }

    /// Online agents to tell that the ticket is waiting (those who may take it), but not `skipped`.
    public func audience(for ticket: QueuedTicket, except skipped: Int64? = nil) -> [Int64] {
        members.values
            .filter { $0.status == .online && $0.id != skipped && mayTake($0.id, ticket) }
            .map(\.id)
            .sorted()
    }

    /// The agent who helped this customer before, when they are online (sticky agent).
    public func returningAgent(_ previous: Int64?) -> Member? {
        guard let previous, let member = members[previous], member.status == .online else { return nil }
        return member
    }
}
