import Foundation
import Logging
import SupportBotCore
import SupportBotStore

/// Timings of the human handoff. Defaults suit a small team.
public struct HandoffConfiguration: Sendable {
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

/// Where a customer stands with their ticket.
enum CustomerTicketStatus: Sendable, Equatable {
    case waiting(position: Int, waitMinutes: Int)
    case withAgent(name: String)
    /// Closed or abandoned: the bot answers again.
    case over
}

/// The human side of SupportBot: the ticket queue (kept in SQLite), agents online, and the live links between
/// customers and agents. One actor, so claims, transfers and grace periods never race each other; the database
/// is the record, this actor only adds who is connected.
public actor HandoffDesk {
    private struct OnlineAgent {
        var agent: Agent
        var status: AgentStatus
        var outbox: Outbox
        var connection: ObjectIdentifier
    }

    let database: SupportBotDatabase
    let engine: LiveEngine
    let configuration: HandoffConfiguration
    let logger: Logger
    private var customers: [Int64: Outbox] = [:]
    private var lastPositions: [Int64: Int] = [:]
    private var agents: [Int64: OnlineAgent] = [:]
    private var timers: [String: Task<Void, Never>] = [:]
    private var pickups: [Double] = []
    /// Tickets still being set up by `open` (stored, handoff message not yet sent): not offered or claimable yet,
    /// so the customer always hears "you are in line" before "Sam has joined".
    private var opening: Set<Int64> = []

    public init(database: SupportBotDatabase, engine: LiveEngine, configuration: HandoffConfiguration = .init(),
                logger: Logger) {
        self.database = database
        self.engine = engine
        self.configuration = configuration
        self.logger = logger
    }

    /// Picks up where the last run stopped: tickets waiting for a customer to come back and tickets whose agent
    /// has to log in again get their grace periods; recent pickup times feed the wait estimates.
    public func start() async throws {
        let now = Date()
        pickups = try await database.recentPickupSeconds(limit: 20, since: now.addingTimeInterval(-7 * 86_400))
        for ticket in try await database.openTickets() {
            if ticket.state == .assigned {
                startAgentGrace(ticket: ticket.id)
            } else if customers[ticket.id] == nil && !isAway(at: now) {
                startCustomerGrace(ticket: ticket.id)
            }
        }
    }

    /// Stops the grace timers (at shutdown). Tickets stay as they are in the database.
    public func stop() {
        for timer in timers.values { timer.cancel() }
        timers = [:]
    }

    // MARK: Customer side

    /// Opens a ticket for this exchange and returns what the customer is told. The exchange (`turn`) and the
    /// ticket are stored in one transaction; the handoff message is stored before it is returned.
    /// - Returns: the ticket (a new one, or the session's open one it rejoined) and what the customer is told.
    func open(turn: ChatTurn, decision: HandoffDecision, mood: MoodReading, match: MatchResult?, upset: Bool,
              preview: String, outbox: Outbox) async throws -> (ticket: Int64, messages: [ServerMessage]) {
        let now = Date()
        let engine = engine.engine
        let guesses = (match?.candidates ?? []).prefix(3).map {
            TicketDetails.Guess(intent: $0.intent, title: $0.title, score: MoodDetector.rounded($0.score))
        }
        let details = TicketDetails(moodReasons: mood.reasons, candidates: Array(guesses),
                                    triggers: decision.triggers.map(\.rawValue), explanation: decision.explanation)
        let detailsJSON = String(decoding: (try? JSONEncoder().encode(details)) ?? Data("{}".utf8), as: UTF8.self)
        let new = NewTicket(sessionID: turn.sessionID, reason: decision.reason.rawValue, level: decision.level.rawValue,
                            tags: decision.tags.map { $0.lowercased() }, mood: mood.conversation, details: detailsJSON, preview: preview)
        var ticket: Ticket
        do {
            ticket = try await database.openTicket(new, turn: turn, at: now)
        } catch StoreError.ticketAlreadyOpen(_, let id) {
            // Already in line (a second connection, say): store the message with that ticket and rejoin it.
            _ = try await database.record(turn)
            return (id, try await rejoin(ticket: id, sessionID: turn.sessionID, outbox: outbox))
        }
        opening.insert(ticket.id)
        defer { opening.remove(ticket.id) }
        customers[ticket.id] = outbox
        outbox.holdsOpen = true
        logger.info("Ticket opened", metadata: [
            "ticket": .stringConvertible(ticket.id), "reason": .string(ticket.reason),
            "priority": .string(decision.level.name),
        ])

        // Sticky agent: back to the person who helped this customer before, if they are online.
        var joined: OnlineAgent?
        if let previous = try await database.lastHelpingAgentID(
            sessionID: ticket.sessionID, since: now.addingTimeInterval(-configuration.stickyWindowSeconds)),
           let agent = agents[previous], agent.status == .online,
           let claimed = try await database.claimTicket(id: ticket.id, agentID: agent.agent.id,
                                                        agentName: agent.agent.name, at: now) {
            ticket = claimed
            joined = agent
            // The agent may have dropped while the claim was written: their grace period starts now.
            if agents[agent.agent.id]?.connection != agent.connection { startAgentGrace(ticket: ticket.id) }
        }
        let (position, wait) = joined == nil ? try await place(of: ticket.id) : (0, 0)
        let away = joined == nil && isAway(at: now)
        let backAt = away ? backText(at: now) : nil
        var text = engine.messages.handoff(reason: decision.reason, upset: upset, ticket: ticket.id,
                                           position: position, waitMinutes: wait, away: away, backAt: backAt)
        if let joined { text = engine.messages.handoffToKnownAgent(ticket: ticket.id, agent: joined.agent.name) }
        var entries = [TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .bot, text: text,
                                       action: "handoff", kbVersion: engine.version, ticketID: ticket.id)]
        if let joined {
            entries.append(TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .system,
                                           text: "\(joined.agent.name) joined (helped this customer before)",
                                           ticketID: ticket.id))
        }
        try await database.append(entries, sessionID: ticket.sessionID, at: now)

        var messages: [ServerMessage] = [.handoff(ticket: ticket.id, reason: decision.reason.rawValue,
                                                  priority: decision.level.name, position: position,
                                                  waitMinutes: wait, text: text)]
        if let joined {
            messages.append(.agentJoined(agent: joined.agent.name, text: engine.messages.agentJoined(joined.agent.name)))
            joined.outbox.send(try await claimedLine(ticket, sticky: true, transferredFrom: nil))
        } else {
            lastPositions[ticket.id] = position
            announce(ticket)
            try await refreshPositions(except: ticket.id)
        }
        return (ticket.id, messages)
    }

    /// A customer reconnected (`hello`) to a session with an open ticket.
    func rejoin(ticket id: Int64, sessionID: String, outbox: Outbox) async throws -> [ServerMessage] {
        guard let ticket = try await database.ticket(id: id), ticket.state.isOpen else { return [] }
        // A connection that another one took the chat from meanwhile (two tabs at once) does not rejoin.
        guard outbox.isOpen else { return [] }
        cancelTimer("customer-\(id)")
        if let previous = customers[id], previous !== outbox { previous.holdsOpen = false }
        customers[id] = outbox
        outbox.holdsOpen = true
        let engine = engine.engine
        if ticket.state == .assigned, let name = ticket.agentName {
            guard let agent = agents[ticket.agentID ?? -1] else {
                // Their agent dropped too and has a moment to come back; `login` says when they have.
                return [.received(ticket: id, text: engine.messages.agentAway(name))]
            }
            agent.outbox.send(AgentLine.make("customer_back", [("ticket", .int(Int(id)))]))
            return [.agentJoined(agent: name, text: engine.messages.agentJoined(name))]
        }
        let (position, wait) = try await place(of: id)
        lastPositions[id] = position
        return [.queue(ticket: id, position: position, waitMinutes: wait,
                       text: placeText(position: position, waitMinutes: wait))]
    }

    /// A message from a customer who is waiting or talking to a person: stored with the ticket and passed on.
    /// - Parameter botAnswer: what the bot can answer to it. While nobody has the ticket yet, the bot gives it (so a
    ///   question asked while waiting is not left hanging) and it is stored with the ticket, for the agent who
    ///   takes it; once a person has the chat, the bot keeps quiet.
    /// - Returns: with `.waiting`, whether the bot's answer was given.
    func customerSaid(ticket id: Int64, sessionID: String, text: String,
                      botAnswer: BotReply? = nil) async throws -> (status: CustomerTicketStatus, answered: Bool) {
        guard let ticket = try await database.ticket(id: id), ticket.state.isOpen else { return (.over, false) }
        let now = Date()
        let answer = ticket.state == .waiting ? botAnswer : nil
        var entries = [TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: text, ticketID: id)]
        if let answer {
            entries.append(TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: answer.text,
                                           intent: answer.intent, confidence: answer.confidence,
                                           action: answer.action.rawValue, kbVersion: engine.engine.version,
                                           ticketID: id))
        }
        try await database.append(entries, sessionID: sessionID, at: now)
        if ticket.state == .assigned, let agentID = ticket.agentID, let name = ticket.agentName {
            agents[agentID]?.outbox.send(AgentLine.make("customer", [("ticket", .int(Int(id))), ("text", .string(text))]))
            return (.withAgent(name: name), false)
        }
        let (position, wait) = try await place(of: id)
        return (.waiting(position: position, waitMinutes: wait), answer != nil)
    }

    /// A waiting customer left an address for the team's reply by e-mail: it is kept on the ticket (whole, for the
    /// team; the transcript line is masked as always), agents are told, and the customer's confirmation is returned.
    /// Nil when the ticket is no longer waiting (a person has it, or it is over).
    func leaveReplyEmail(ticket id: Int64, sessionID: String, text: String, address: String) async throws -> String? {
        guard try await database.setReplyEmail(ticketID: id, address: address) != nil else { return nil }
        let reply = engine.engine.messages.replyByEmail(hint: PIIMasker.hint(ofEmail: address))
        let now = Date()
        try await database.append([
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: text, ticketID: id),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: reply, ticketID: id),
        ], sessionID: sessionID, at: now)
        broadcast(AgentLine.make("reply_email", [("ticket", .int(Int(id))), ("address", .string(address))]))
        return reply
    }

    /// "Never mind" while waiting: the customer leaves the line and the bot answers again.
    /// Returns false when the ticket was already taken by a person (then the message goes to them instead).
    /// What the customer typed, the team's note and the bot's `reply` are stored together.
    func cancel(ticket id: Int64, sessionID: String, customerText: String, reply: String) async throws -> Bool {
        guard let ticket = try await database.ticket(id: id), ticket.state == .waiting else { return false }
        let now = Date()
        guard try await database.abandonTicket(id: id, at: now) != nil else { return false }
        try await database.append([
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: customerText, ticketID: id),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .system,
                            text: "Customer left the line and went back to the bot", ticketID: id),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: reply, ticketID: id),
        ], sessionID: sessionID, at: now)
        forget(customer: id)
        broadcast(AgentLine.make("ticket_gone", [("ticket", .int(Int(id))), ("state", "abandoned")]))
        try await refreshPositions(except: nil)
        return true
    }

    /// The customer's connection is gone (`bye`, closed tab, lost network). A waiting ticket is abandoned after
    /// the grace period unless they come back; an agent in the chat is told at once.
    /// Whether the team is away now (out of hours, nobody online).
    func teamIsAway() -> Bool { isAway(at: Date()) }

    /// Out of hours with nobody online, when people are back ("tomorrow at 9 am", or nil when the hours don't say);
    /// `nil` when the team is there.
    func awayUntil() -> String?? {
        let now = Date()
        return isAway(at: now) ? .some(backText(at: now)) : .none
    }

    func customerDisconnected(ticket id: Int64, outbox: Outbox, saidBye: Bool) async {
        guard customers[id] === outbox else { return }
        customers[id] = nil
        do {
            guard let ticket = try await database.ticket(id: id), ticket.state.isOpen else { return }
            if ticket.state == .assigned, let agentID = ticket.agentID {
                agents[agentID]?.outbox.send(AgentLine.make("customer_left", [("ticket", .int(Int(id))),
                                                                               ("said_bye", .bool(saidBye))]))
            } else if saidBye {
                await abandon(id)
            } else if !isAway(at: Date()) {
                startCustomerGrace(ticket: id)
            }
            // Outside opening hours the ticket waits for the team, as the customer was told; they read the
            // reply when they come back to the chat.
        } catch {
            logger.error("Could not update a ticket after the customer left",
                         metadata: ["ticket": .stringConvertible(id), "error": .string("\(error)")])
        }
    }

    /// The customer's 1–5 rating after a person closed the chat. Returns false if there is nothing to rate.
    func rate(ticket id: Int64, score: Int, comment: String?) async throws -> Bool {
        try await database.rateTicket(id: id, score: score, comment: comment, at: Date()) != nil
    }

    private func abandon(_ id: Int64) async {
        do {
            guard let ticket = try await database.abandonTicket(id: id, at: Date()) else { return }
            try await recordTeamLine("Customer left before a person joined", session: ticket.sessionID, ticket: id)
            forget(customer: id)
            broadcast(AgentLine.make("ticket_gone", [("ticket", .int(Int(id))), ("state", "abandoned")]))
            try await refreshPositions(except: nil)
            logger.info("Ticket abandoned", metadata: ["ticket": .stringConvertible(id)])
        } catch {
            logger.error("Could not abandon a ticket", metadata: ["ticket": .stringConvertible(id),
                                                                 "error": .string("\(error)")])
        }
    }

    private func forget(customer id: Int64) {
        customers[id]?.holdsOpen = false
        customers[id] = nil
        lastPositions[id] = nil
        cancelTimer("customer-\(id)")
    }

    // MARK: Agent side

    /// An agent logged in: online, their tickets kept, and what to send them first.
    func login(_ agent: Agent, outbox: Outbox, connection: ObjectIdentifier) async throws -> [[UInt8]] {
        if let previous = agents[agent.id], previous.connection != connection {
            previous.outbox.send(AgentLine.error("signed_in_elsewhere",
                                                 "You signed in from another window, so this one is closed."))
            previous.outbox.finishAndClose()
        }
        agents[agent.id] = OnlineAgent(agent: agent, status: .online, outbox: outbox, connection: connection)
        var lines = [AgentLine.make("welcome", [("agent", .string(agent.name)),
                                                ("skills", .array(agent.skills.map(JSONValue.string))),
                                                ("status", "online")])]
        for ticket in try await database.openTickets() where ticket.agentID == agent.id {
            cancelTimer("agent-\(ticket.id)")
            lines.append(try await claimedLine(ticket, sticky: false, transferredFrom: nil))
            if let outbox = customers[ticket.id] {
                let name = agent.name
                outbox.send(ServerMessage.agentJoined(agent: name, text: engine.engine.messages.agentJoined(name))
                    .jsonLine())
            }
        }
        lines.append(try await queueLine(for: agent.id))
        logger.info("Agent logged in", metadata: ["agent": .string(agent.name)])
        return lines
    }

    /// The agent's connection is gone: their chats wait a grace period for them, then go back to the front.
    func agentDisconnected(_ agentID: Int64, connection: ObjectIdentifier) async {
        guard let online = agents[agentID], online.connection == connection else { return }
        agents[agentID] = nil
        do {
            for ticket in try await database.openTickets() where ticket.agentID == agentID {
                startAgentGrace(ticket: ticket.id)
            }
        } catch {
            logger.error("Could not look up an agent's tickets", metadata: ["error": .string("\(error)")])
        }
        logger.info("Agent disconnected", metadata: ["agent": .string(online.agent.name)])
    }

    func setStatus(_ agentID: Int64, _ status: AgentStatus) async throws -> [[UInt8]] {
        agents[agentID]?.status = status
        var lines = [AgentLine.make("status", [("status", .string(status.rawValue))])]
        if status == .online { lines.append(try await queueLine(for: agentID)) }
        return lines
    }

    func queueLine(for agentID: Int64) async throws -> [UInt8] {
        let now = Date()
        let tickets = try await database.openTickets()
        return AgentLine.make("queue", [("tickets", .array(tickets.map { summary($0, now: now, for: agentID) }))])
    }

    /// Gives the agent a ticket: the one asked for, or the most urgent one they can take.
    func claim(_ agentID: Int64, ticket requested: Int64?) async throws -> [[UInt8]] {
        guard let online = agents[agentID] else { return [AgentLine.error("not_logged_in", "Log in first.")] }
        let now = Date()
        var target: Ticket?
        if let requested {
            guard let ticket = try await database.ticket(id: requested) else {
                return [AgentLine.error("unknown_ticket", "There is no ticket \(requested).")]
            }
            if ticket.state == .assigned && ticket.agentID == agentID {
                return [try await claimedLine(ticket, sticky: false, transferredFrom: nil)]
            }
            guard ticket.state == .waiting, !opening.contains(ticket.id) else {
                return [ticket.state == .assigned
                    ? AgentLine.error("already_claimed", "\(ticket.agentName ?? "Someone") already has ticket \(requested).",
                                      ticket: requested)
                    : AgentLine.error("ticket_closed", "Ticket \(requested) is \(ticket.state.rawValue).", ticket: requested)]
            }
            target = ticket
        } else {
            target = try await database.openTickets().first {
                $0.state == .waiting && !opening.contains($0.id) && eligible(online.agent, for: $0)
            }
            guard target != nil else { return [AgentLine.error("queue_empty", "No one is waiting for you right now.")] }
        }
        guard let target,
              let claimed = try await database.claimTicket(id: target.id, agentID: agentID, agentName: online.agent.name,
                                                           at: now) else {
            return [AgentLine.error("already_claimed", "Someone else took that ticket a moment ago.", ticket: target?.id)]
        }
        pickups = Array(([now.timeIntervalSince(target.queuedAt)] + pickups).prefix(20))
        try await joined(claimed, agent: online.agent, now: now, note: "\(online.agent.name) joined")
        if agents[agentID]?.connection != online.connection { startAgentGrace(ticket: claimed.id) }
        return [try await claimedLine(claimed, sticky: false, transferredFrom: nil)]
    }

    /// After a ticket is given to an agent: the customer is told, other agents drop it from their lists.
    private func joined(_ ticket: Ticket, agent: Agent, now: Date, note: String) async throws {
        try await recordTeamLine(note, session: ticket.sessionID, ticket: ticket.id, at: now)
        lastPositions[ticket.id] = nil
        cancelTimer("customer-\(ticket.id)")
        customers[ticket.id]?.send(ServerMessage.agentJoined(agent: agent.name,
                                                             text: engine.engine.messages.agentJoined(agent.name))
            .jsonLine())
        broadcast(AgentLine.make("ticket_taken", [("ticket", .int(Int(ticket.id))), ("agent", .string(agent.name))]),
                  except: agent.id)
        try await refreshPositions(except: nil)
    }

    func say(_ agentID: Int64, ticket id: Int64, text: String) async throws -> [[UInt8]] {
        let (ticket, failure) = try await ownTicket(agentID, id)
        guard let ticket, let agent = agents[agentID]?.agent else { return [failure ?? Self.notLoggedIn] }
        let now = Date()
        try await database.append([TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .agent, text: text,
                                                   ticketID: id, author: agent.name)],
                                  sessionID: ticket.sessionID, at: now)
        let customer = customers[id]
        customer?.send(ServerMessage.agent(agent: agent.name, text: text).jsonLine())
        return [AgentLine.make("sent", [("ticket", .int(Int(id))), ("customer_online", .bool(customer != nil))])]
    }

    /// An internal note: stored with the ticket, shown to agents, never to the customer.
    func note(_ agentID: Int64, ticket id: Int64, text: String) async throws -> [[UInt8]] {
        guard let agent = agents[agentID]?.agent else { return [AgentLine.error("not_logged_in", "Log in first.")] }
        guard let ticket = try await database.ticket(id: id) else {
            return [AgentLine.error("unknown_ticket", "There is no ticket \(id).")]
        }
        let now = Date()
        try await database.append([TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .agent, text: text,
                                                   action: "note", ticketID: id, author: agent.name)],
                                  sessionID: ticket.sessionID, at: now)
        return [AgentLine.make("noted", [("ticket", .int(Int(id)))])]
    }

    /// Hands the chat on, with its whole history: to a named agent who is online, or back to the line for
    /// agents with a skill (at the front, so the customer does not wait again).
    func transfer(_ agentID: Int64, ticket id: Int64, skill: String?, to targetName: String?) async throws -> [[UInt8]] {
        let (ticket, failure) = try await ownTicket(agentID, id)
        guard let ticket, let from = agents[agentID]?.agent else { return [failure ?? Self.notLoggedIn] }
        let now = Date()
        let messages = engine.engine.messages
        if let targetName {
            if targetName.lowercased() == from.name.lowercased() {
                return [AgentLine.error("invalid_field", "You already have this chat. Transfer it to someone else.",
                                        ticket: id)]
            }
            guard let target = agents.values.first(where: { $0.agent.name.lowercased() == targetName.lowercased() }),
                  target.agent.id != agentID else {
                return [AgentLine.error("agent_offline", "\(targetName) is not online. Pick someone who is, or "
                                        + "transfer to a skill.", ticket: id)]
            }
            guard try await database.requeueTicket(id: id, front: true, skill: nil, at: now) != nil,
                  let claimed = try await database.claimTicket(id: id, agentID: target.agent.id,
                                                               agentName: target.agent.name, at: now) else {
                return [AgentLine.error("ticket_closed", "Ticket \(id) is no longer open.", ticket: id)]
            }
            customers[id]?.send(ServerMessage.agentLeft(agent: from.name, text: messages.transferred(from.name),
                                                        askRating: false).jsonLine())
            try await joined(claimed, agent: target.agent, now: now,
                             note: "\(from.name) transferred the chat to \(target.agent.name)")
            target.outbox.send(try await claimedLine(claimed, sticky: false, transferredFrom: from.name))
            if agents[target.agent.id]?.connection != target.connection { startAgentGrace(ticket: id) }
            return [AgentLine.make("transferred", [("ticket", .int(Int(id))), ("to", .string(target.agent.name))])]
        }
        let wanted = skill?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let wanted, !wanted.isEmpty else {
            return [AgentLine.error("missing_field", "Say who gets the chat: a skill or an agent's name.", ticket: id)]
        }
        // A skill nobody on the team has would leave the chat waiting for no one.
        let skills = Set(try await database.agents().flatMap { $0.skills.map { $0.lowercased() } })
        guard skills.contains(wanted) else {
            let known = skills.sorted().joined(separator: ", ")
            return [AgentLine.error("unknown_skill", "No agent has the skill '\(wanted.prefix(40))'"
                                        + (known.isEmpty ? ", and no agent has any skill yet. Transfer to an agent by name."
                                                         : ". Skills on the team: \(known). Or transfer to an agent by name."),
                                    ticket: id)]
        }
        guard let waiting = try await database.requeueTicket(id: id, front: true, skill: wanted, at: now) else {
            return [AgentLine.error("ticket_closed", "Ticket \(id) is no longer open.", ticket: id)]
        }
        try await recordTeamLine("\(from.name) transferred the chat to \(wanted)", session: ticket.sessionID,
                                 ticket: id, at: now)
        if let customer = customers[id] {
            customer.send(ServerMessage.agentLeft(agent: from.name, text: messages.transferred(from.name),
                                                  askRating: false).jsonLine())
            let (position, wait) = try await place(of: id)
            lastPositions[id] = position
            customer.send(ServerMessage.queue(ticket: id, position: position, waitMinutes: wait,
                                              text: placeText(position: position, waitMinutes: wait)).jsonLine())
        }
        announce(waiting, except: agentID)
        try await refreshPositions(except: id)
        return [AgentLine.make("transferred", [("ticket", .int(Int(id))), ("to", .string(wanted))])]
    }

    /// Closes the chat with a resolution; the customer is asked for a rating.
    func close(_ agentID: Int64, ticket id: Int64, resolution: String) async throws -> [[UInt8]] {
        let (ticket, failure) = try await ownTicket(agentID, id)
        guard let ticket, let agent = agents[agentID]?.agent else { return [failure ?? Self.notLoggedIn] }
        let now = Date()
        guard try await database.closeTicket(id: id, resolution: resolution, at: now) != nil else {
            return [AgentLine.error("ticket_closed", "Ticket \(id) is no longer open.", ticket: id)]
        }
        try await recordTeamLine("\(agent.name) closed the chat", session: ticket.sessionID, ticket: id, at: now)
        customers[id]?.send(ServerMessage.agentLeft(agent: agent.name,
                                                    text: engine.engine.messages.agentClosed(agent.name),
                                                    askRating: true).jsonLine())
        customers[id]?.holdsOpen = false
        customers[id] = nil
        // Colleagues' lists show assigned tickets too: take it off them.
        broadcast(AgentLine.make("ticket_gone", [("ticket", .int(Int(id))), ("state", "closed")]), except: agentID)
        logger.info("Ticket closed", metadata: ["ticket": .stringConvertible(id), "agent": .string(agent.name)])
        return [AgentLine.make("closed", [("ticket", .int(Int(id)))])]
    }

    private static let notLoggedIn = AgentLine.error("not_logged_in", "Log in first.")

    /// The ticket, when it is assigned to this agent; otherwise the error line to send.
    private func ownTicket(_ agentID: Int64, _ id: Int64) async throws -> (Ticket?, [UInt8]?) {
        guard agents[agentID] != nil else { return (nil, AgentLine.error("not_logged_in", "Log in first.")) }
        guard let ticket = try await database.ticket(id: id) else {
            return (nil, AgentLine.error("unknown_ticket", "There is no ticket \(id).", ticket: id))
        }
        guard ticket.state.isOpen else {
            return (nil, AgentLine.error("ticket_closed", "Ticket \(id) is \(ticket.state.rawValue).", ticket: id))
        }
        guard ticket.state == .assigned, ticket.agentID == agentID else {
            return (nil, AgentLine.error("not_your_ticket", "Ticket \(id) is not yours. Claim it first.", ticket: id))
        }
        return (ticket, nil)
    }

    // MARK: Queue

    /// Can this agent take this ticket? Tickets go to agents with a matching skill (a transfer's skill, else the
    /// topic's tags); when no one online has it, anyone may take it.
    private func eligible(_ agent: Agent, for ticket: Ticket) -> Bool {
        let needed = Set(ticket.skill.map { [$0] } ?? ticket.tags)
        if needed.isEmpty || !needed.isDisjoint(with: agent.skills) { return true }
        return !agents.values.contains { $0.status == .online && !needed.isDisjoint(with: $0.agent.skills) }
    }

    /// Tells online agents who can take it that a ticket is waiting.
    private func announce(_ ticket: Ticket, except: Int64? = nil) {
        let now = Date()
        for online in agents.values where online.status == .online && online.agent.id != except
            && eligible(online.agent, for: ticket) {
            var fields = [("ticket", JSONValue.int(Int(ticket.id)))]
            if case .object(let pairs) = summary(ticket, now: now, for: online.agent.id) { fields = pairs }
            online.outbox.send(AgentLine.make("ticket_new", fields))
        }
    }

    private func broadcast(_ line: [UInt8], except: Int64? = nil) {
        for online in agents.values where online.agent.id != except { online.outbox.send(line) }
    }

    /// The ticket's place among waiting tickets (1 = next) and an honest wait estimate in minutes.
    private func place(of id: Int64) async throws -> (Int, Int) {
        let waiting = try await database.openTickets().filter { $0.state == .waiting }
        let position = (waiting.firstIndex { $0.id == id } ?? 0) + 1
        return (position, waitMinutes(position: position))
    }

    /// Average recent pickup time × place in line ÷ agents online, rounded up to whole minutes.
    private func waitMinutes(position: Int) -> Int {
        let average = pickups.isEmpty ? configuration.defaultPickupSeconds
            : pickups.reduce(0, +) / Double(pickups.count)
        let online = max(1, agents.values.filter { $0.status == .online }.count)
        var seconds = average * Double(position) / Double(online)
        if isAway(at: Date()), let opening = engine.engine.knowledgeBase.handoff.openingHours.nextOpening(after: Date()) {
            seconds += opening.timeIntervalSinceNow
        }
        return max(1, Int((seconds / 60).rounded(.up)))
    }

    /// Sends `queue` to every waiting customer whose place changed.
    private func refreshPositions(except skipped: Int64?) async throws {
        let waiting = try await database.openTickets().filter { $0.state == .waiting }
        for (index, ticket) in waiting.enumerated() where ticket.id != skipped {
            let position = index + 1
            guard let outbox = customers[ticket.id], lastPositions[ticket.id] != position else { continue }
            lastPositions[ticket.id] = position
            let wait = waitMinutes(position: position)
            outbox.send(ServerMessage.queue(ticket: ticket.id, position: position, waitMinutes: wait,
                                            text: placeText(position: position, waitMinutes: wait)).jsonLine())
        }
    }

    /// What a waiting customer is told about their place: the line, or when the team is back.
    private func placeText(position: Int, waitMinutes: Int) -> String {
        let messages = engine.engine.messages
        let now = Date()
        if isAway(at: now) { return messages.away(backAt: backText(at: now)) }
        return messages.place(position: position, waitMinutes: waitMinutes)
    }

    /// Outside opening hours with no one online.
    private func isAway(at date: Date) -> Bool {
        !engine.engine.knowledgeBase.handoff.openingHours.isOpen(at: date)
            && !agents.values.contains { $0.status == .online }
    }

    private func backText(at date: Date) -> String? {
        let hours = engine.engine.knowledgeBase.handoff.openingHours
        return hours.nextOpening(after: date).map { hours.describe($0, from: date) }
    }

    private func summary(_ ticket: Ticket, now: Date, for agentID: Int64) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("ticket", .int(Int(ticket.id))),
            ("priority", .string(EscalationLevel(rawValue: ticket.level)?.name ?? "medium")),
            ("reason", .string(ticket.reason)),
            ("waiting_s", .int(max(0, Int(now.timeIntervalSince(ticket.queuedAt))))),
            ("tags", .array(ticket.tags.map(JSONValue.string))),
            ("preview", .string(ticket.preview)),
            ("state", .string(ticket.state.rawValue)),
            ("customer_online", .bool(customers[ticket.id] != nil)),
        ]
        if let skill = ticket.skill { fields.append(("skill", .string(skill))) }
        if let name = ticket.agentName { fields.append(("agent", .string(name))) }
        if let address = ticket.replyEmail { fields.append(("reply_email", .string(address))) }
        if ticket.state == .waiting, let agent = agents[agentID]?.agent {
            fields.append(("for_you", .bool(eligible(agent, for: ticket))))
        }
        return .object(fields)
    }

    /// Everything an agent needs so the customer never repeats themselves.
    private func claimedLine(_ ticket: Ticket, sticky: Bool, transferredFrom: String?) async throws -> [UInt8] {
        let transcript = try await database.transcript(sessionID: ticket.sessionID)
        let details = (try? JSONDecoder().decode(TicketDetails.self, from: Data(ticket.details.utf8)))
        let formatter = ISO8601DateFormatter()
        let lines: [JSONValue] = transcript.map { entry in
            var from = entry.speaker.rawValue
            if entry.action == "note" { from = "note" }
            var fields: [(String, JSONValue)] = [("from", .string(from)), ("text", .string(entry.text)),
                                                 ("at", .string(formatter.string(from: entry.at))),
                                                 ("intent", entry.intent.map(JSONValue.string) ?? .null),
                                                 ("confidence", entry.confidence.map(JSONValue.double) ?? .null)]
            if let author = entry.author { fields.append(("author", .string(author))) }
            return .object(fields)
        }
        var fields: [(String, JSONValue)] = [
            ("ticket", .int(Int(ticket.id))), ("session", .string(ticket.sessionID)),
            ("reason", .string(ticket.reason)),
            ("priority", .string(EscalationLevel(rawValue: ticket.level)?.name ?? "medium")),
            ("tags", .array(ticket.tags.map(JSONValue.string))),
            ("mood", .object([
                ("score", .double(ticket.mood)),
                ("reasons", .array((details?.moodReasons ?? []).map {
                    .object([("kind", .string($0.kind.rawValue)), ("evidence", .string($0.evidence)),
                             ("weight", .double($0.weight))])
                })),
            ])),
            ("candidates", .array((details?.candidates ?? []).map {
                .object([("intent", .string($0.intent)), ("title", .string($0.title)), ("score", .double($0.score))])
            })),
            ("why", .string(details?.explanation ?? "")),
            ("why_in_words", .string(HandoffReason.inWords(triggers: details?.triggers ?? [ticket.reason],
                                                           moodReasons: details?.moodReasons ?? [], tags: ticket.tags))),
            ("customer_online", .bool(customers[ticket.id] != nil)),
            ("transcript", .array(lines)),
        ]
        if let address = ticket.replyEmail { fields.append(("reply_email", .string(address))) }
        if sticky { fields.append(("sticky", .bool(true))) }
        if let transferredFrom { fields.append(("transferred_from", .string(transferredFrom))) }
        return AgentLine.make("claimed", fields)
    }

    /// A line for the team in the chat's transcript ("Sam joined"); never shown to the customer.
    private func recordTeamLine(_ text: String, session: String, ticket: Int64, at: Date = Date()) async throws {
        try await database.append([TranscriptEntry(sessionID: session, at: at, speaker: .system, text: text,
                                                   ticketID: ticket)], sessionID: session, at: at)
    }

    // MARK: Grace periods

    private func startAgentGrace(ticket id: Int64) {
        schedule("agent-\(id)", after: configuration.agentGraceSeconds) { desk in await desk.agentGraceEnded(id) }
    }

    private func startCustomerGrace(ticket id: Int64) {
        schedule("customer-\(id)", after: configuration.customerGraceSeconds) { desk in await desk.abandon(id) }
    }

    private func schedule(_ key: String, after seconds: Double,
                          _ action: @escaping @Sendable (HandoffDesk) async -> Void) {
        timers[key]?.cancel()
        timers[key] = Task { [weak self] in
            try? await Task.sleep(for: .seconds(seconds))
            guard !Task.isCancelled, let self else { return }
            await self.timerFired(key)
            await action(self)
        }
    }

    private func timerFired(_ key: String) { timers[key] = nil }

    private func cancelTimer(_ key: String) {
        timers[key]?.cancel()
        timers[key] = nil
    }

    /// The agent did not come back in time: the chat goes to the front of the line and the customer is told.
    private func agentGraceEnded(_ id: Int64) async {
        do {
            guard let ticket = try await database.ticket(id: id), ticket.state == .assigned,
                  let agentID = ticket.agentID, agents[agentID] == nil else { return }
            let name = ticket.agentName ?? "Our teammate"
            // Back at the front (the `front` flag), waiting from now: its first chat is not pickup time.
            guard let waiting = try await database.requeueTicket(id: id, front: true, skill: ticket.skill,
                                                                 at: Date()) else { return }
            try await recordTeamLine("\(name) lost the connection; back to the front of the line",
                                     session: ticket.sessionID, ticket: id)
            if let customer = customers[id] {
                let messages = engine.engine.messages
                customer.send(ServerMessage.agentLeft(agent: name, text: messages.agentLost(name), askRating: false)
                    .jsonLine())
                let (position, wait) = try await place(of: id)
                lastPositions[id] = position
                customer.send(ServerMessage.queue(ticket: id, position: position, waitMinutes: wait,
                                                  text: placeText(position: position, waitMinutes: wait)).jsonLine())
            } else if !isAway(at: Date()) {
                startCustomerGrace(ticket: id)
            }
            announce(waiting)
            try await refreshPositions(except: id)
            logger.notice("Agent did not come back; ticket back in line", metadata: ["ticket": .stringConvertible(id)])
        } catch {
            logger.error("Could not requeue a ticket", metadata: ["ticket": .stringConvertible(id),
                                                                 "error": .string("\(error)")])
        }
    }
}

/// Lines for the agent protocol.
enum AgentLine {
    static func make(_ type: String, _ fields: [(String, JSONValue)]) -> [UInt8] {
        var out: [UInt8] = []
        JSONValue.object([("type", .string(type))] + fields).write(into: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    static func error(_ code: String, _ message: String, ticket: Int64? = nil) -> [UInt8] {
        var fields: [(String, JSONValue)] = [("code", .string(code)), ("message", .string(message))]
        if let ticket { fields.append(("ticket", .int(Int(ticket)))) }
        return make("error", fields)
    }
}
