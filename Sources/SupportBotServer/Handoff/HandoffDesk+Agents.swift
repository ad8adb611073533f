import Foundation
import Logging
import SupportBotCore
import SupportBotStore

// The agent side of the desk: logging in and out, claiming, talking, notes, transfers, closing; and what happens
// when an agent does not come back.

extension HandoffDesk {
    /// An agent logged in: online, their tickets kept, and what to send them first.
    func login(_ agent: Agent, outbox: Outbox, connection: ObjectIdentifier) async throws -> [AgentEvent] {
        if let previous = agentLinks[agent.id], previous.connection != connection {
            previous.outbox.send(.error(.signedInElsewhere,
                                                 "You signed in from another window, so this one is closed."))
            previous.outbox.finishAndClose()
        }
        // Online before anything is read, so a grace period ending meanwhile sees them back.
        agentLinks[agent.id] = AgentLink(outbox: outbox, connection: connection)
        let member = HandoffQueue.Member(id: agent.id, name: agent.name, skills: agent.skills)
        update { $0.agentLoggedIn(member, holding: []) }
        let holding = try await database.openTickets().filter { $0.agentID == agent.id }
        update { $0.agentLoggedIn(member, holding: holding.map(\.id)) }
        var lines: [AgentEvent] = [.welcome(agent: agent.name, skills: agent.skills, status: .online)]
        for ticket in holding {
            lines.append(try await claimedEvent(ticket, sticky: false, transferredFrom: nil))
            customers[ticket.id]?.send(ServerMessage.agentJoined(agent: agent.name,
                                                                 text: engine.engine.messages.agentJoined(agent.name))
                .jsonLine())
        }
        lines.append(try await queueEvent(for: agent.id))
        logger.info("Agent logged in", metadata: ["agent": .string(agent.name)])
        return lines
    }

    /// The agent's connection is gone: their chats wait a grace period for them, then go back to the front.
    func agentDisconnected(_ agentID: Int64, connection: ObjectIdentifier) async {
        guard let link = agentLinks[agentID], link.connection == connection else { return }
        let name = queue.members[agentID]?.name ?? "?"
        agentLinks[agentID] = nil
        let now = clock.now()
        update { $0.agentLeft(agentID, holding: [], at: now) }
        do {
            let holding = try await database.openTickets().filter { $0.agentID == agentID }.map(\.id)
            // Logged in again meanwhile: their tickets are theirs again.
            if agentLinks[agentID] == nil { update { $0.agentLeft(agentID, holding: holding, at: now) } }
        } catch {
            logger.error("Could not look up an agent's tickets", metadata: ["error": .string("\(error)")])
        }
        logger.info("Agent disconnected", metadata: ["agent": .string(name)])
    }

    func setStatus(_ agentID: Int64, _ status: AgentStatus) async throws -> [AgentEvent] {
        update { $0.setStatus(status, of: agentID) }
        var lines: [AgentEvent] = [.status(status)]
        if status == .online { lines.append(try await queueEvent(for: agentID)) }
        return lines
    }

    func queueEvent(for agentID: Int64) async throws -> AgentEvent {
        let now = clock.now()
        let tickets = try await database.openTickets()
        return .queue(tickets.map { summary($0, now: now, for: agentID) })
    }

    /// Gives the agent a ticket: the one asked for, or the most urgent one they can take.
    func claim(_ agentID: Int64, ticket requested: Int64?) async throws -> [AgentEvent] {
        guard let member = queue.members[agentID], let link = agentLinks[agentID] else { return [Self.notLoggedIn] }
        let now = clock.now()
        let target: Ticket
        if let requested {
            guard let ticket = try await database.ticket(id: requested) else {
                return [AgentEvent.error(.unknownTicket, "There is no ticket \(requested).")]
            }
            if ticket.state == .assigned && ticket.agentID == agentID {
                return [try await claimedEvent(ticket, sticky: false, transferredFrom: nil)]
            }
            guard ticket.state == .waiting, !queue.opening.contains(ticket.id) else {
                return [ticket.state == .assigned
                    ? AgentEvent.error(.alreadyClaimed, "\(ticket.agentName ?? "Someone") already has ticket \(requested).",
                                      ticket: requested)
                    : AgentEvent.error(.ticketClosed, "Ticket \(requested) is \(ticket.state.rawValue).", ticket: requested)]
            }
            target = ticket
        } else {
            let open = try await database.openTickets()
            guard let next = queue.nextTicket(for: agentID, in: open.map(Self.queued)),
                  let ticket = open.first(where: { $0.id == next.id }) else {
                return [AgentEvent.error(.queueEmpty, "No one is waiting for you right now.")]
            }
            target = ticket
        }
        guard let claimed = try await database.claimTicket(id: target.id, agentID: agentID, agentName: member.name,
                                                           at: now, lines: [teamLine("\(member.name) joined", target, at: now)])
        else {
            return [AgentEvent.error(.alreadyClaimed, "Someone else took that ticket a moment ago.", ticket: target.id)]
        }
        let connected = agentLinks[agentID]?.connection == link.connection
        update { $0.claimed(Self.queued(target), by: agentID, at: now, agentConnected: connected) }
        try await joined(claimed, agent: member.name)
        return [try await claimedEvent(claimed, sticky: false, transferredFrom: nil)]
    }

    /// After a ticket is given to an agent: the customer is told, other agents drop it from their lists.
    private func joined(_ ticket: Ticket, agent name: String) async throws {
        customers[ticket.id]?.send(ServerMessage.agentJoined(agent: name, text: engine.engine.messages.agentJoined(name))
            .jsonLine())
        broadcast(.ticketTaken(ticket: ticket.id, agent: name),
                  except: ticket.agentID)
        try await refreshPositions(except: nil)
    }

    func say(_ agentID: Int64, ticket id: Int64, text: String) async throws -> [AgentEvent] {
        let (ticket, failure) = try await ownTicket(agentID, id)
        guard let ticket, let agent = queue.members[agentID] else { return [failure ?? Self.notLoggedIn] }
        let now = clock.now()
        try await database.append([TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .agent, text: text,
                                                   ticketID: id, author: agent.name)],
                                  sessionID: ticket.sessionID, at: now)
        let customer = customers[id]
        customer?.send(ServerMessage.agent(agent: agent.name, text: text).jsonLine())
        return [.sent(ticket: id, customerOnline: customer != nil)]
    }

    /// An internal note: stored with the ticket, shown to agents, never to the customer.
    func note(_ agentID: Int64, ticket id: Int64, text: String) async throws -> [AgentEvent] {
        guard let agent = queue.members[agentID] else { return [Self.notLoggedIn] }
        guard let ticket = try await database.ticket(id: id) else {
            return [AgentEvent.error(.unknownTicket, "There is no ticket \(id).")]
        }
        let now = clock.now()
        try await database.append([TranscriptEntry(sessionID: ticket.sessionID, at: now, speaker: .agent, text: text,
                                                   action: .note, ticketID: id, author: agent.name)],
                                  sessionID: ticket.sessionID, at: now)
        return [.noted(ticket: id)]
    }

    /// Hands the chat on, with its whole history: to a named agent who is online, or back to the line for
    /// agents with a skill (at the front, so the customer does not wait again).
    func transfer(_ agentID: Int64, ticket id: Int64, skill: String?, to targetName: String?) async throws -> [AgentEvent] {
        let (ticket, failure) = try await ownTicket(agentID, id)
        guard let ticket, let from = queue.members[agentID] else { return [failure ?? Self.notLoggedIn] }
        let now = clock.now()
        let messages = engine.engine.messages
        if let targetName {
            if targetName.lowercased() == from.name.lowercased() {
                return [AgentEvent.error(.invalidField, "You already have this chat. Transfer it to someone else.",
                                        ticket: id)]
            }
            guard let target = queue.members.values.first(where: { $0.name.lowercased() == targetName.lowercased() }),
                  target.id != agentID, let targetLink = agentLinks[target.id] else {
                return [AgentEvent.error(.agentOffline, "\(targetName) is not online. Pick someone who is, or "
                                        + "transfer to a skill.", ticket: id)]
            }
            guard let claimed = try await database.handOver(id: id, toAgentID: target.id, agentName: target.name, at: now,
                                                            lines: [teamLine("\(from.name) transferred the chat to "
                                                                             + target.name, ticket, at: now)]) else {
                return [AgentEvent.error(.ticketClosed, "Ticket \(id) is no longer open.", ticket: id)]
            }
            let connected = agentLinks[target.id]?.connection == targetLink.connection
            update { $0.claimed(Self.queued(claimed), by: target.id, at: now, agentConnected: connected) }
            customers[id]?.send(ServerMessage.agentLeft(agent: from.name, text: messages.transferred(from.name),
                                                        askRating: false).jsonLine())
            try await joined(claimed, agent: target.name)
            targetLink.outbox.send(try await claimedEvent(claimed, sticky: false, transferredFrom: from.name))
            return [.transferred(ticket: id, to: target.name)]
        }
        let wanted = skill?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let wanted, !wanted.isEmpty else {
            return [AgentEvent.error(.missingField, "Say who gets the chat: a skill or an agent's name.", ticket: id)]
        }
        // A skill nobody on the team has would leave the chat waiting for no one.
        let skills = Set(try await database.agents().flatMap { $0.skills.map { $0.lowercased() } })
        guard skills.contains(wanted) else {
            let known = skills.sorted().joined(separator: ", ")
            return [AgentEvent.error(.unknownSkill, "No agent has the skill '\(wanted.prefix(40))'"
                                        + (known.isEmpty ? ", and no agent has any skill yet. Transfer to an agent by name."
                                                         : ". Skills on the team: \(known). Or transfer to an agent by name."),
                                    ticket: id)]
        }
        guard let waiting = try await database.requeueTicket(
            id: id, front: true, skill: wanted, at: now,
            lines: [teamLine("\(from.name) transferred the chat to \(wanted)", ticket, at: now)]) else {
            return [AgentEvent.error(.ticketClosed, "Ticket \(id) is no longer open.", ticket: id)]
        }
        update { $0.transferredToSkill(id) }
        if let customer = customers[id] {
            customer.send(ServerMessage.agentLeft(agent: from.name, text: messages.transferred(from.name),
                                                  askRating: false).jsonLine())
            customer.send(queueMessage(ticket: id, try await place(of: id, telling: true)).jsonLine())
        }
        announce(waiting, except: agentID)
        try await refreshPositions(except: id)
        return [.transferred(ticket: id, to: wanted)]
    }

    /// Closes the chat with a resolution; the customer is asked for a rating.
    func close(_ agentID: Int64, ticket id: Int64, resolution: String) async throws -> [AgentEvent] {
        let (ticket, failure) = try await ownTicket(agentID, id)
        guard let ticket, let agent = queue.members[agentID] else { return [failure ?? Self.notLoggedIn] }
        let now = clock.now()
        guard try await database.closeTicket(id: id, resolution: resolution, at: now,
                                             lines: [teamLine("\(agent.name) closed the chat", ticket, at: now)]) != nil else {
            return [AgentEvent.error(.ticketClosed, "Ticket \(id) is no longer open.", ticket: id)]
        }
        customers[id]?.send(ServerMessage.agentLeft(agent: agent.name,
                                                    text: engine.engine.messages.agentClosed(agent.name),
                                                    askRating: true).jsonLine())
        end(ticket: id)
        // Colleagues' lists show assigned tickets too: take it off them.
        broadcast(.ticketGone(ticket: id, state: .closed), except: agentID)
        logger.info("Ticket closed", metadata: ["ticket": .stringConvertible(id), "agent": .string(agent.name)])
        return [.closed(ticket: id)]
    }

    static let notLoggedIn = AgentEvent.error(.notLoggedIn, "Log in first.")

    /// The ticket, when it is assigned to this agent; otherwise the error line to send.
    private func ownTicket(_ agentID: Int64, _ id: Int64) async throws -> (Ticket?, AgentEvent?) {
        guard queue.members[agentID] != nil else { return (nil, Self.notLoggedIn) }
        guard let ticket = try await database.ticket(id: id) else {
            return (nil, AgentEvent.error(.unknownTicket, "There is no ticket \(id).", ticket: id))
        }
        guard ticket.state.isOpen else {
            return (nil, AgentEvent.error(.ticketClosed, "Ticket \(id) is \(ticket.state.rawValue).", ticket: id))
        }
        guard ticket.state == .assigned, ticket.agentID == agentID else {
            return (nil, AgentEvent.error(.notYourTicket, "Ticket \(id) is not yours. Claim it first.", ticket: id))
        }
        return (ticket, nil)
    }

    /// The agent did not come back in time: the chat goes to the front of the line and the customer is told.
    func agentGraceEnded(_ id: Int64) async {
        do {
            guard let ticket = try await database.ticket(id: id), ticket.state == .assigned,
                  let agentID = ticket.agentID, agentLinks[agentID] == nil else { return }
            let name = ticket.agentName ?? "Our teammate"
            let now = clock.now()
            // Back at the front (the `front` flag), waiting from now: its first chat is not pickup time.
            guard let waiting = try await database.requeueTicket(
                id: id, front: true, skill: ticket.skill, at: now,
                lines: [teamLine("\(name) lost the connection; back to the front of the line", ticket, at: now)])
            else { return }
            update { $0.agentDidNotReturn(id, at: moment()) }
            if let customer = customers[id] {
                let messages = engine.engine.messages
                customer.send(ServerMessage.agentLeft(agent: name, text: messages.agentLost(name), askRating: false)
                    .jsonLine())
                customer.send(queueMessage(ticket: id, try await place(of: id, telling: true)).jsonLine())
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
