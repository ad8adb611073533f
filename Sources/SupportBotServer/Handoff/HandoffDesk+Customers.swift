import Foundation
import Logging
import NIOConcurrencyHelpers
import SupportBotCore
import SupportBotStore

// The customer side of the desk: opening a ticket, coming back, talking while waiting or with a person, leaving.

extension HandoffDesk {
    /// Opens a ticket for this exchange and returns what the customer is told. The exchange (`turn`) and the
    /// ticket are stored in one transaction; the handoff message is stored before it is returned.
    /// - Returns: the ticket (a new one, or the session's open one it rejoined) and what the customer is told.
    func open(turn: ChatTurn, decision: HandoffDecision, mood: MoodReading, match: MatchResult?, upset: Bool,
              preview: String, outbox: Outbox) async throws -> (ticket: Int64, messages: [ServerMessage]) {
        let now = clock.now()
        let engine = engine.engine
        let guesses = (match?.candidates ?? []).prefix(3).map {
            TicketDetails.Guess(intent: $0.intent, title: $0.title, score: MoodDetector.rounded($0.score))
        }
        let details = TicketDetails(moodReasons: mood.reasons, candidates: Array(guesses),
                                    triggers: decision.triggers.map(\.rawValue), explanation: decision.explanation)
        let detailsJSON = String(decoding: (try? JSONEncoder().encode(details)) ?? Data("{}".utf8), as: UTF8.self)
        let new = NewTicket(sessionID: turn.sessionID, reason: decision.reason.rawValue, level: decision.level.rawValue,
                            tags: decision.tags.map { $0.lowercased() }, mood: mood.conversation, details: detailsJSON, preview: preview)
        // Sticky agent: back to the person who helped this customer before, if they are online. Decided before
        // the ticket is stored, so it is stored theirs.
        let previous = try await database.lastHelpingAgentID(
            sessionID: turn.sessionID, since: now.addingTimeInterval(-configuration.stickyWindowSeconds))
        let returning = queue.returningAgent(previous).flatMap { member in agentLinks[member.id].map { (member, $0) } }
        // What the customer is told depends on the place the ticket gets, which the store works out as it writes:
        // the handoff message is made there and stored in the same transaction.
        let decisions = queue
        let moment = moment()
        let told = NIOLockedValueBox<(text: String, place: HandoffQueue.Place)?>(nil)
        let ticket: Ticket
        do {
            ticket = try await database.openTicket(new, turn: turn, at: now,
                                                   agent: returning.map { ($0.0.id, $0.0.name) }) { ticket, position in
                let text: String
                var place = HandoffQueue.Place(position: 0, waitMinutes: 0)
                var teamLines: [TranscriptEntry] = []
                if ticket.state == .assigned, let name = ticket.agentName {
                    text = engine.messages.handoffToKnownAgent(ticket: ticket.id, agent: name)
                    teamLines = [TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .system,
                                                 text: "\(name) joined (helped this customer before)", ticketID: ticket.id)]
                } else {
                    place = .init(position: position, waitMinutes: decisions.waitMinutes(position: position, at: moment))
                    let away = decisions.isAway(at: moment)
                    text = engine.messages.handoff(reason: decision.reason, upset: upset, ticket: ticket.id,
                                                   position: place.position, waitMinutes: place.waitMinutes, away: away,
                                                   backAt: away ? decisions.backAt(moment) : nil)
                }
                told.withLockedValue { $0 = (text, place) }
                return [TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .bot, text: text, action: .handoff,
                                        kbVersion: engine.version, ticketID: ticket.id)] + teamLines
            }
        } catch StoreError.ticketAlreadyOpen(_, let id) {
            // Already in line (a second connection, say): store the message with that ticket and rejoin it.
            _ = try await database.record(turn)
            return (id, try await rejoin(ticket: id, sessionID: turn.sessionID, outbox: outbox))
        }
        update { $0.opening(ticket.id) }
        defer { update { $0.opened(ticket.id) } }
        connect(customer: outbox, ticket: ticket.id)
        logger.info("Ticket opened", metadata: [
            "ticket": .stringConvertible(ticket.id), "reason": .string(ticket.reason),
            "priority": .string(decision.level.name),
        ])
        guard let (text, place) = told.withLockedValue({ $0 }) else { throw DeskError.handoffMessageNotMade }
        var messages: [ServerMessage] = [.handoff(ticket: ticket.id, reason: decision.reason.rawValue,
                                                  priority: decision.level.name, position: place.position,
                                                  waitMinutes: place.waitMinutes, text: text)]
        if ticket.state == .assigned, let (member, link) = returning {
            let connected = agentLinks[member.id]?.connection == link.connection
            update { $0.claimed(Self.queued(ticket), by: member.id, at: now, agentConnected: connected) }
            messages.append(.agentJoined(agent: member.name, text: engine.messages.agentJoined(member.name)))
            link.outbox.send(try await claimedEvent(ticket, sticky: true, transferredFrom: nil))
        } else {
            update { $0.told(place, ticket: ticket.id) }
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
        connect(customer: outbox, ticket: id)
        let engine = engine.engine
        if ticket.state == .assigned, let name = ticket.agentName {
            guard let link = agentLinks[ticket.agentID ?? -1] else {
                // Their agent dropped too and has a moment to come back; `login` says when they have.
                return [.received(ticket: id, text: engine.messages.agentAway(name))]
            }
            link.outbox.send(.customerBack(ticket: id))
            return [.agentJoined(agent: name, text: engine.messages.agentJoined(name))]
        }
        return [queueMessage(ticket: id, try await place(of: id, telling: true))]
    }

    /// A message from a customer who is waiting or talking to a person: stored with the ticket and passed on.
    /// - Parameter botAnswer: what the bot can answer to it. While nobody has the ticket yet, the bot gives it (so a
    ///   question asked while waiting is not left hanging) and it is stored with the ticket, for the agent who
    ///   takes it; once a person has the chat, the bot keeps quiet.
    /// - Returns: with `.waiting`, whether the bot's answer was given.
    func customerSaid(ticket id: Int64, sessionID: String, text: String,
                      botAnswer: BotReply? = nil) async throws -> (status: CustomerTicketStatus, answered: Bool) {
        guard let ticket = try await database.ticket(id: id), ticket.state.isOpen else { return (.over, false) }
        let now = clock.now()
        let answer = ticket.state == .waiting ? botAnswer : nil
        var entries = [TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: text, ticketID: id)]
        if let answer {
            entries.append(TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: answer.text,
                                           intent: answer.intent, confidence: answer.confidence,
                                           action: TranscriptAction(answer.action), kbVersion: engine.engine.version,
                                           ticketID: id))
        }
        try await database.append(entries, sessionID: sessionID, at: now)
        if ticket.state == .assigned, let agentID = ticket.agentID, let name = ticket.agentName {
            agentLinks[agentID]?.outbox.send(.customer(ticket: id, text: text))
            return (.withAgent(name: name), false)
        }
        let place = try await place(of: id, telling: false)
        return (.waiting(position: place.position, waitMinutes: place.waitMinutes), answer != nil)
    }

    /// A waiting customer left an address for the team's reply by e-mail: it is kept on the ticket (whole, for the
    /// team; the transcript line is masked as always), agents are told, and the customer's confirmation is returned.
    /// Nil when the ticket is no longer waiting (a person has it, or it is over).
    func leaveReplyEmail(ticket id: Int64, sessionID: String, text: String, address: String) async throws -> String? {
        let reply = engine.engine.messages.replyByEmail(hint: PIIMasker.hint(ofEmail: address))
        let now = clock.now()
        guard try await database.setReplyEmail(ticketID: id, address: address, at: now, lines: [
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: text, ticketID: id),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: reply, ticketID: id),
        ]) != nil else { return nil }
        broadcast(.replyEmail(ticket: id, address: address))
        return reply
    }

    /// "Never mind" while waiting: the customer leaves the line and the bot answers again.
    /// Returns false when the ticket was already taken by a person (then the message goes to them instead).
    /// What the customer typed, the team's note and the bot's `reply` are stored together.
    func cancel(ticket id: Int64, sessionID: String, customerText: String, reply: String) async throws -> Bool {
        guard let ticket = try await database.ticket(id: id), ticket.state == .waiting else { return false }
        let now = clock.now()
        guard try await database.abandonTicket(id: id, at: now, lines: [
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: customerText, ticketID: id),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .system,
                            text: "Customer left the line and went back to the bot", ticketID: id),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: reply, ticketID: id),
        ]) != nil else { return false }
        end(ticket: id)
        broadcast(.ticketGone(ticket: id, state: .abandoned))
        try await refreshPositions(except: nil)
        return true
    }

    /// Whether the team is away now (out of hours, nobody online).
    func teamIsAway() -> Bool { queue.isAway(at: moment()) }

    /// Out of hours with nobody online, when people are back ("tomorrow at 9 am", or nil when the hours don't say);
    /// `nil` when the team is there.
    func awayUntil() -> String?? {
        let moment = moment()
        return queue.isAway(at: moment) ? .some(queue.backAt(moment)) : .none
    }

    /// The customer's connection is gone (`bye`, closed tab, lost network). A waiting ticket is abandoned after
    /// the grace period unless they come back (at once after `bye`; never while the team is away: the ticket
    /// waits for it, as the customer was told, and they read the reply when they come back); an agent in the chat
    /// is told at once.
    func customerDisconnected(ticket id: Int64, outbox: Outbox, saidBye: Bool) async {
        guard customers[id] === outbox else { return }
        customers[id] = nil
        disconnectsInProgress += 1
        defer { disconnectsInProgress -= 1 }
        // Gone from now on, for every decision made while the ticket is read (an agent's grace ending, say).
        update { $0.customerGone(id) }
        do {
            guard let ticket = try await database.ticket(id: id), ticket.state.isOpen else {
                update { $0.ended(id) }
                return
            }
            // Back on another connection meanwhile: nothing has changed for the ticket.
            guard customers[id] == nil else { return }
            switch update({ $0.customerLeft(Self.queued(ticket), saidBye: saidBye, at: moment()) }) {
            case .tellAgent(let agentID):
                agentLinks[agentID]?.outbox.send(.customerLeft(ticket: id, saidBye: saidBye))
            case .abandon:
                await abandon(id)
            case .waitForReturn, .waitForTeam:
                break
            }
        } catch {
            logger.error("Could not update a ticket after the customer left",
                         metadata: ["ticket": .stringConvertible(id), "error": .string("\(error)")])
        }
    }

    /// The customer's 1–5 rating after a person closed the chat. Returns false if there is nothing to rate.
    func rate(ticket id: Int64, score: Int, comment: String?) async throws -> Bool {
        try await database.rateTicket(id: id, score: score, comment: comment, at: clock.now()) != nil
    }

    /// A waiting customer's grace period is over: the ticket is abandoned, unless they are back.
    func customerGraceEnded(_ id: Int64) async {
        guard customers[id] == nil else { return }
        await abandon(id, unlessBack: true)
    }

    /// The customer left before a person joined (grace period over, or `bye`).
    /// - Parameter unlessBack: not if the customer has come back meanwhile (a grace period ending).
    func abandon(_ id: Int64, unlessBack: Bool = false) async {
        do {
            let now = clock.now()
            guard let ticket = try await database.ticket(id: id), !(unlessBack && customers[id] != nil),
                  try await database.abandonTicket(id: id, at: now, lines: [
                      teamLine("Customer left before a person joined", ticket, at: now),
                  ]) != nil else { return }
            end(ticket: id)
            broadcast(.ticketGone(ticket: id, state: .abandoned))
            try await refreshPositions(except: nil)
            logger.info("Ticket abandoned", metadata: ["ticket": .stringConvertible(id)])
        } catch {
            logger.error("Could not abandon a ticket", metadata: ["ticket": .stringConvertible(id),
                                                                 "error": .string("\(error)")])
        }
    }
}
