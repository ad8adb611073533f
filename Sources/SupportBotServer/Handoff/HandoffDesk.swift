import Foundation
import Logging
import SupportBotCore
import SupportBotStore

/// Timings of the human handoff (see `HandoffTimings`).
public typealias HandoffConfiguration = HandoffTimings

/// What an agent sees about the customer's mood and the bot's guesses, kept with the ticket as JSON.
struct TicketDetails: Codable, Sendable {
    struct Guess: Codable, Sendable {
        var intent: String
        var title: String
        var score: Double
    }

    var moodReasons: [MoodReason]
    var candidates: [Guess]
    var triggers: [String]
    var explanation: String
}

enum DeskError: Error {
    /// The store opened a ticket without making its handoff message (it always makes it).
    case handoffMessageNotMade
}

/// Where a customer stands with their ticket.
enum CustomerTicketStatus: Sendable, Equatable {
    case waiting(position: Int, waitMinutes: Int)
    case withAgent(name: String)
    /// Closed or abandoned: the bot answers again.
    case over
}

/// The human side of SupportBot, at the edge: it stores tickets (the database is the record), keeps the live
/// links to customers' and agents' connections, and carries out what its `HandoffQueue` decides (routing, places,
/// wait estimates, grace periods). One actor, so claims, transfers and grace periods never race each other.
///
/// The customer side is in `HandoffDesk+Customers.swift`, the agent side in `HandoffDesk+Agents.swift`.
public actor HandoffDesk {
    /// An agent's live connection.
    struct AgentLink {
        var outbox: Outbox
        var connection: ObjectIdentifier
    }

    let database: SupportBotDatabase
    let engine: LiveEngine
    let configuration: HandoffConfiguration
    let clock: any ServerClock
    let logger: Logger
    /// Who is online, places told, grace deadlines: the decisions. Change it through `update`.
    private(set) var queue: HandoffQueue
    /// Connections of customers with an open ticket, by ticket (the same tickets as `queue.customersOnline`).
    var customers: [Int64: Outbox] = [:]
    /// Connections of logged-in agents (the same agents as `queue.members`).
    var agentLinks: [Int64: AgentLink] = [:]
    /// The one timer: it wakes at `queue.nextDeadline`. `number` tells it from the timers it replaced.
    private var timer: (deadline: Date, task: Task<Void, Never>, number: Int)?
    private var timersSet = 0
    /// After `stop()`: no timer is set again.
    private var stopped = false
    /// Customers' disconnects being worked out (tests and diagnostics).
    var disconnectsInProgress = 0
    /// Callers of `whenSet(_:)` still waiting.
    private var deadlineWatchers: [(deadline: HandoffQueue.Deadline, continuation: CheckedContinuation<Date, Never>)] = []

    public init(database: SupportBotDatabase, engine: LiveEngine, configuration: HandoffConfiguration = .init(),
                clock: any ServerClock = SystemClock(), logger: Logger) {
        self.database = database
        self.engine = engine
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.queue = HandoffQueue(timings: configuration)
    }

    /// Picks up where the last run stopped: tickets waiting for a customer to come back and tickets whose agent
    /// has to log in again get their grace periods; recent pickup times feed the wait estimates.
    public func start() async throws {
        let now = clock.now()
        let pickups = try await database.recentPickupSeconds(limit: HandoffQueue.pickupsKept,
                                                             since: now.addingTimeInterval(-7 * 86_400))
        let open = try await openLine()
        queue = HandoffQueue(timings: configuration, pickupSeconds: pickups)
        update { $0.resume(open, at: moment()) }
    }

    /// Stops the timer (at shutdown). Tickets stay as they are in the database.
    public func stop() {
        stopped = true
        timer?.task.cancel()
        timer = nil
    }

    /// The deadlines the desk is waiting for (tests and diagnostics).
    public var deadlines: [HandoffQueue.Deadline: Date] { queue.deadlines }

    /// Whether the ticket's customer is connected (tests and diagnostics).
    public func isConnected(customer ticket: Int64) -> Bool { customers[ticket] != nil }

    /// Whether every customer disconnect has been dealt with (tests and diagnostics).
    public var disconnectsSettled: Bool { disconnectsInProgress == 0 }

    /// The time of `deadline`, once the desk has set it. With a `ManualClock`, a test moves time past it rather than
    /// waiting for it.
    public func whenSet(_ deadline: HandoffQueue.Deadline) async -> Date {
        if let date = queue.deadlines[deadline] { return date }
        return await withCheckedContinuation { deadlineWatchers.append((deadline, $0)) }
    }

    // MARK: Queue and time

    /// Now, with the opening hours of the live knowledge base.
    func moment() -> HandoffQueue.Moment {
        HandoffQueue.Moment(now: clock.now(), hours: engine.engine.knowledgeBase.handoff.openingHours)
    }

    /// Changes the queue, then sets the timer for its earliest deadline.
    @discardableResult
    func update<Result>(_ change: (inout HandoffQueue) -> Result) -> Result {
        let result = change(&queue)
        if !deadlineWatchers.isEmpty {
            let deadlines = queue.deadlines
            for watcher in deadlineWatchers {
                if let date = deadlines[watcher.deadline] { watcher.continuation.resume(returning: date) }
            }
            deadlineWatchers.removeAll { deadlines[$0.deadline] != nil }
        }
        let next = stopped ? nil : queue.nextDeadline
        if next != timer?.deadline {
            timer?.task.cancel()
            timer = next.map { deadline in
                timersSet += 1
                let number = timersSet
                return (deadline, Task { [weak self, clock] in
                    do { try await clock.sleep(until: deadline) } catch { return }
                    await self?.deadlinesPassed(timer: number)
                }, number)
            }
        }
        return result
    }

    /// The timer numbered `number` rang. A timer that was replaced meanwhile does nothing: the one that replaced
    /// it is set for the same deadlines or earlier ones.
    private func deadlinesPassed(timer number: Int) async {
        guard timer?.number == number, !stopped else { return }
        timer = nil
        for deadline in update({ $0.due(at: clock.now()) }) {
            switch deadline {
            case .agentGrace(let ticket): await agentGraceEnded(ticket)
            case .customerGrace(let ticket): await customerGraceEnded(ticket)
            }
        }
        update { _ in }
    }

    /// The open tickets in queue order, as the queue needs them.
    func openLine() async throws -> [HandoffQueue.QueuedTicket] {
        try await database.openTickets().map(Self.queued)
    }

    static func queued(_ ticket: Ticket) -> HandoffQueue.QueuedTicket {
        HandoffQueue.QueuedTicket(id: ticket.id, holder: ticket.state == .assigned ? .agent(ticket.agentID ?? -1) : .nobody,
                                  skill: ticket.skill, tags: ticket.tags, queuedAt: ticket.queuedAt)
    }

    // MARK: Shared by both sides

    /// The customer's connection for this ticket; the queue learns they are there.
    func connect(customer outbox: Outbox, ticket id: Int64) {
        if let previous = customers[id], previous !== outbox { previous.holdsOpen = false }
        customers[id] = outbox
        outbox.holdsOpen = true
        update { $0.customerJoined(id) }
    }

    /// The ticket is closed or abandoned: the customer's connection goes back to the bot, the queue forgets it.
    func end(ticket id: Int64) {
        customers[id]?.holdsOpen = false
        customers[id] = nil
        update { $0.ended(id) }
    }

    /// Tells online agents who may take it that a ticket is waiting.
    func announce(_ ticket: Ticket, except skipped: Int64? = nil) {
        let now = clock.now()
        for id in queue.audience(for: Self.queued(ticket), except: skipped) {
            agentLinks[id]?.outbox.send(.ticketNew(summary(ticket, now: now, for: id)))
        }
    }

    func broadcast(_ event: AgentEvent, except skipped: Int64? = nil) {
        let line = event.jsonLine()
        for (id, link) in agentLinks where id != skipped { link.outbox.send(line) }
    }

    /// The ticket's place in line and its wait estimate, marked as told to the customer when `telling`.
    func place(of id: Int64, telling: Bool) async throws -> HandoffQueue.Place {
        let place = queue.place(of: id, in: try await openLine(), at: moment())
        if telling { update { $0.told(place, ticket: id) } }
        return place
    }

    /// The `queue` message for a waiting customer.
    func queueMessage(ticket id: Int64, _ place: HandoffQueue.Place) -> ServerMessage {
        .queue(ticket: id, position: place.position, waitMinutes: place.waitMinutes, text: placeText(place))
    }

    /// Sends `queue` to every waiting customer whose place changed.
    func refreshPositions(except skipped: Int64?) async throws {
        let open = try await openLine()
        for (ticket, place) in update({ $0.movedPlaces(in: open, except: skipped, at: moment()) }) {
            customers[ticket]?.send(queueMessage(ticket: ticket, place).jsonLine())
        }
    }

    /// What a waiting customer is told about their place: the line, or when the team is back.
    func placeText(_ place: HandoffQueue.Place) -> String {
        let messages = engine.engine.messages
        let moment = moment()
        if queue.isAway(at: moment) { return messages.away(backAt: queue.backAt(moment)) }
        return messages.place(position: place.position, waitMinutes: place.waitMinutes)
    }

    /// A line for the team in the chat's transcript ("Sam joined"); never shown to the customer. It is stored with
    /// the change it tells of, in the same transaction.
    func teamLine(_ text: String, _ ticket: Ticket, at: Date) -> TranscriptEntry {
        TranscriptEntry(sessionID: ticket.sessionID, at: at, speaker: .system, text: text, ticketID: ticket.id)
    }
}
