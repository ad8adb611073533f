import Foundation
internal import GRDB
import SupportBotCore

// The human-handoff queue: agents, and tickets that move waiting → assigned → closed (or abandoned), with
// requeues back to waiting. Every state change is one conditional write: a call that finds the ticket in the
// wrong state writes nothing and returns nil.

// MARK: - Agents

extension SupportBotDatabase {
    /// Adds an agent. The name is trimmed; skills are trimmed, lowercased, deduplicated and sorted
    /// (a comma inside a skill separates two skills).
    /// - Parameter tokenHash: the hash of the agent's login token; must be unique.
    /// - Throws: `StoreError.invalidAgentName` (1 to 40 letters, digits, spaces, '-', '_' or '.'),
    ///   `StoreError.duplicateAgent` if an agent already has that name, whatever its case.
    public func addAgent(name: String, skills: [String], tokenHash: String, at: Date) async throws -> Agent {
        let name = try Self.validAgentName(name)
        let skills = ListColumn.skills(skills)
        return try await write { db in
            if let existing = try AgentRecord.filter(AgentRecord.Columns.name == name).fetchOne(db) {
                throw StoreError.duplicateAgent(name: existing.name)
            }
            var record = AgentRecord(id: nil, name: name, skills: skills, tokenHash: tokenHash, createdAt: at.storage)
            try record.insert(db)
            return record.model
        }
    }

    /// All agents, sorted by name (without regard to case).
    public func agents() async throws -> [Agent] {
        try await writer.read { db in
            try AgentRecord.order(AgentRecord.Columns.name, AgentRecord.Columns.id).fetchAll(db).map(\.model)
        }
    }

    /// The agent with this name, compared without regard to case (and surrounding spaces).
    public func agent(named name: String) async throws -> Agent? {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await writer.read { db in
            try AgentRecord.filter(AgentRecord.Columns.name == name).fetchOne(db)?.model
        }
    }

    public func agent(id: Int64) async throws -> Agent? {
        try await writer.read { db in try AgentRecord.fetchOne(db, key: id)?.model }
    }

    public func agent(tokenHash: String) async throws -> Agent? {
        try await writer.read { db in
            try AgentRecord.filter(AgentRecord.Columns.tokenHash == tokenHash).fetchOne(db)?.model
        }
    }

    /// Removes an agent, in one transaction with its consequences: the tickets it holds go back to the queue,
    /// waiting at the front (queuedAt unchanged, `previousAgentID` not set to the removed agent); tickets that remember it as their previous agent forget it; closed tickets keep
    /// its name (`agentName`) but lose its id.
    /// - Returns: false if there is no agent with this name.
    @discardableResult
    public func removeAgent(named name: String) async throws -> Bool {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await write { db in
            guard let agent = try AgentRecord.filter(AgentRecord.Columns.name == name).fetchOne(db),
                  let id = agent.id
            else { return false }
            try TicketRecord
                .filter(TicketRecord.Columns.agentID == id)
                .filter(TicketRecord.isOpen)
                .updateAll(db, [
                    TicketRecord.Columns.state.set(to: TicketState.waiting.rawValue),
                    TicketRecord.Columns.front.set(to: true),
                    TicketRecord.Columns.agentID.set(to: nil),
                    TicketRecord.Columns.agentName.set(to: nil),
                ])
            try TicketRecord
                .filter(TicketRecord.Columns.previousAgentID == id)
                .updateAll(db, [TicketRecord.Columns.previousAgentID.set(to: nil)])
            return try agent.delete(db)
        }
    }

    /// The trimmed name, if it is a valid agent name.
    static func validAgentName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let allowed = trimmed.allSatisfy { character in
            character.isLetter || ("0"..."9").contains(character) || " -_.".contains(character)
        }
        guard !trimmed.isEmpty, trimmed.count <= 40, allowed else {
            throw StoreError.invalidAgentName(name: trimmed)
        }
        return trimmed
    }
}

// MARK: - Ticket life cycle

extension SupportBotDatabase {
    /// Hands a conversation off, in one transaction: records `turn` exactly as `record(_:)` does, queues a
    /// waiting ticket (createdAt = queuedAt = `at`, preview masked), links the turn's entries to it (`ticketID`),
    /// and adds the `lines` made for it (the bot's handoff message, the team's notes).
    /// `turn.sessionID` must be `new.sessionID`.
    /// - Parameters:
    ///   - agent: a returning customer's own agent: the ticket is theirs at once (claimed at `at`).
    ///   - lines: made from the stored ticket and its place among the waiting tickets (1 = next; 0 when it went to
    ///     `agent`). Keep it quick: it runs inside the write.
    /// - Throws: `StoreError.ticketAlreadyOpen` if the session already has a waiting or assigned ticket,
    ///   `StoreError.unknownSession` if it was never created; nothing is written then.
    public func openTicket(_ new: NewTicket, turn: ChatTurn, at: Date, agent: (id: Int64, name: String)? = nil,
                           lines: @escaping @Sendable (Ticket, Int) -> [TranscriptEntry] = { _, _ in [] })
        async throws -> Ticket {
        precondition(turn.sessionID == new.sessionID, "a ticket's turn must belong to the ticket's session")
        let masked = turn.entries.map { PIIMasker.mask($0.text) }
        let preview = PIIMasker.mask(new.preview)
        return try await write { db in
            if let open = try Self.openTicketRecord(sessionID: new.sessionID, in: db) {
                throw StoreError.ticketAlreadyOpen(sessionID: new.sessionID, ticket: open.id ?? -1)
            }
            let stored = try Self.record(turn, maskedTexts: masked, in: db)
            var record = TicketRecord(new, maskedPreview: preview, at: at)
            try record.insert(db)
            let id = try record.model().id
            try TranscriptEntryRecord
                .filter(keys: stored.compactMap(\.id))
                .updateAll(db, [TranscriptEntryRecord.Columns.ticketID.set(to: id)])
            var ticket = try record.model()
            var place = 0
            if let agent, let claimed = try Self.claim(id: id, agentID: agent.id, agentName: agent.name, at: at, in: db) {
                ticket = claimed
            } else {
                let waiting = try Int64.fetchAll(db, TicketRecord
                    .select(TicketRecord.Columns.id)
                    .filter(TicketRecord.Columns.state == TicketState.waiting.rawValue)
                    .order(Self.queueOrder))
                place = (waiting.firstIndex(of: id) ?? 0) + 1
            }
            let made = lines(ticket, place)
            try Self.appendLines(made, maskedTexts: made.map { PIIMasker.mask($0.text) }, to: ticket, at: at, in: db)
            return ticket
        }
    }

    /// Gives a waiting ticket to an agent: assigned, with the agent, claimedAt = `at`, no longer at the front; with
    /// `lines` (the team's "Sam joined") added to its transcript in the same transaction.
    /// One conditional UPDATE, so of two agents claiming the same ticket exactly one wins.
    /// - Returns: the claimed ticket, or nil (nothing written) if the ticket is not waiting or does not exist.
    public func claimTicket(id: Int64, agentID: Int64, agentName: String, at: Date,
                            lines: [TranscriptEntry] = []) async throws -> Ticket? {
        let masked = lines.map { PIIMasker.mask($0.text) }
        return try await write { db in
            guard let ticket = try Self.claim(id: id, agentID: agentID, agentName: agentName, at: at, in: db) else {
                return nil
            }
            try Self.appendLines(lines, maskedTexts: masked, to: ticket, at: at, in: db)
            return ticket
        }
    }

    static func claim(id: Int64, agentID: Int64, agentName: String, at: Date, in db: Database) throws -> Ticket? {
        let claimed = try TicketRecord
            .filter(key: id)
            .filter(TicketRecord.Columns.state == TicketState.waiting.rawValue)
            .updateAll(db, [
                TicketRecord.Columns.state.set(to: TicketState.assigned.rawValue),
                TicketRecord.Columns.agentID.set(to: agentID),
                TicketRecord.Columns.agentName.set(to: agentName),
                TicketRecord.Columns.claimedAt.set(to: at.storage),
                TicketRecord.Columns.front.set(to: false),
            ])
        guard claimed == 1 else { return nil }
        return try TicketRecord.fetchOne(db, key: id)?.model()
    }

    /// Adds the team's lines about a ticket's change to its session's transcript, inside the caller's transaction.
    static func appendLines(_ lines: [TranscriptEntry], maskedTexts: [String], to ticket: Ticket, at: Date,
                            in db: Database) throws {
        guard !lines.isEmpty else { return }
        try touchSession(ticket.sessionID, at: at, in: db)
        _ = try insertEntries(lines, maskedTexts: maskedTexts, sessionID: ticket.sessionID, in: db)
    }

    /// Puts an open ticket back in the queue: waiting, without an agent (the one it had becomes
    /// `previousAgentID`; a waiting ticket keeps its previous agent), queuedAt = `at`, at the front or not.
    /// `claimedAt` is kept.
    /// - Parameter skill: the skill the next agent must have (trimmed, lowercased); nil or blank for any agent.
    /// - Returns: the ticket, or nil (nothing written) if it is closed, abandoned or does not exist.
    /// - Parameter lines: added to the ticket's transcript in the same transaction.
    public func requeueTicket(id: Int64, front: Bool, skill: String?, at: Date,
                              lines: [TranscriptEntry] = []) async throws -> Ticket? {
        let skill = skill.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        return try await updateOpenTicket(id: id, at: at, lines: lines) { ticket in
            Self.putBack(&ticket, front: front, skill: skill?.isEmpty == false ? skill : nil, at: at)
        }
    }

    /// A ticket back in the queue, waiting from `at`; the agent it had becomes its previous agent.
    private static func putBack(_ ticket: inout TicketRecord, front: Bool, skill: String?, at: Date) {
        ticket.state = TicketState.waiting.rawValue
        ticket.previousAgentID = ticket.agentID ?? ticket.previousAgentID
        ticket.agentID = nil
        ticket.agentName = nil
        ticket.queuedAt = at.storage
        ticket.front = front
        ticket.skill = skill
    }

    /// Hands an assigned ticket straight to another agent (a transfer by name), in one transaction: it is put back
    /// at the front and claimed by them at `at` (so the moment is not counted as a pickup), with `lines`.
    /// - Returns: the ticket, or nil (nothing written) if it is closed, abandoned or does not exist.
    public func handOver(id: Int64, toAgentID agentID: Int64, agentName: String, at: Date,
                         lines: [TranscriptEntry] = []) async throws -> Ticket? {
        let masked = lines.map { PIIMasker.mask($0.text) }
        return try await write { db in
            guard var record = try TicketRecord.fetchOne(db, key: id), record.ticketState?.isOpen == true else {
                return nil
            }
            Self.putBack(&record, front: true, skill: nil, at: at)
            try record.update(db)
            guard let ticket = try Self.claim(id: id, agentID: agentID, agentName: agentName, at: at, in: db) else {
                return nil
            }
            try Self.appendLines(lines, maskedTexts: masked, to: ticket, at: at, in: db)
            return ticket
        }
    }

    /// Closes an open ticket: closed, closedAt = `at`, resolution masked. The agent fields are kept.
    /// - Returns: the ticket, or nil (nothing written) if it is already closed, abandoned or does not exist.
    /// - Parameter lines: added to the ticket's transcript in the same transaction.
    public func closeTicket(id: Int64, resolution: String, at: Date, lines: [TranscriptEntry] = []) async throws -> Ticket? {
        let resolution = PIIMasker.mask(resolution)
        return try await updateOpenTicket(id: id, at: at, lines: lines) { ticket in
            ticket.state = TicketState.closed.rawValue
            ticket.closedAt = at.storage
            ticket.resolution = resolution
        }
    }

    /// Marks a waiting ticket abandoned (the customer left before a person joined): abandoned, closedAt = `at`.
    /// A ticket a person has already taken is never abandoned under them; they close it.
    /// - Returns: the ticket, or nil (nothing written) if it is not waiting or does not exist.
    /// - Parameter lines: added to the ticket's transcript in the same transaction.
    public func abandonTicket(id: Int64, at: Date, lines: [TranscriptEntry] = []) async throws -> Ticket? {
        try await updateOpenTicket(id: id, onlyWaiting: true, at: at, lines: lines) { ticket in
            ticket.state = TicketState.abandoned.rawValue
            ticket.closedAt = at.storage
        }
    }

    /// Stores the customer's rating of a closed ticket. A blank comment is stored as nil; others are masked.
    /// - Returns: the ticket, or nil (nothing written) if it is not closed, already rated, or does not exist.
    /// - Throws: `StoreError.invalidRating` if `score` is not in 1...5.
    public func rateTicket(id: Int64, score: Int, comment: String?, at: Date) async throws -> Ticket? {
        guard (1...5).contains(score) else { throw StoreError.invalidRating(score: score) }
        let comment = comment.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .flatMap { $0.isEmpty ? nil : PIIMasker.mask($0) }
        return try await write { db in
            guard var ticket = try TicketRecord.fetchOne(db, key: id),
                  ticket.ticketState == .closed, ticket.rating == nil
            else { return nil }
            ticket.rating = score
            ticket.ratingComment = comment
            ticket.ratedAt = at.storage
            try ticket.update(db)
            return try ticket.model()
        }
    }

    /// The address a waiting customer left for the team's reply by e-mail (the latest one counts). Nil when the
    /// ticket is no longer waiting.
    /// - Parameter lines: added to the ticket's transcript in the same transaction.
    public func setReplyEmail(ticketID id: Int64, address: String, at: Date,
                              lines: [TranscriptEntry] = []) async throws -> Ticket? {
        try await updateOpenTicket(id: id, onlyWaiting: true, at: at, lines: lines) { $0.replyEmail = address }
    }

    /// Applies `change` to the ticket if it is waiting or assigned, and adds `lines` to its transcript, in one
    /// transaction.
    private func updateOpenTicket(
        id: Int64, onlyWaiting: Bool = false, at: Date, lines: [TranscriptEntry],
        _ change: @escaping @Sendable (inout TicketRecord) -> Void
    ) async throws -> Ticket? {
        let masked = lines.map { PIIMasker.mask($0.text) }
        return try await write { db in
            guard var record = try TicketRecord.fetchOne(db, key: id), record.ticketState?.isOpen == true,
                  !onlyWaiting || record.ticketState == .waiting else {
                return nil
            }
            change(&record)
            try record.update(db)
            let ticket = try record.model()
            try Self.appendLines(lines, maskedTexts: masked, to: ticket, at: at, in: db)
            return ticket
        }
    }

    static func openTicketRecord(sessionID: String, in db: Database) throws -> TicketRecord? {
        try TicketRecord
            .filter(TicketRecord.Columns.sessionID == sessionID)
            .filter(TicketRecord.isOpen)
            .fetchOne(db)
    }
}

// MARK: - Reading tickets

extension SupportBotDatabase {
    public func ticket(id: Int64) async throws -> Ticket? {
        try await writer.read { db in try TicketRecord.fetchOne(db, key: id)?.model() }
    }

    /// The session's waiting or assigned ticket, if any (there is at most one).
    public func openTicket(sessionID: String) async throws -> Ticket? {
        try await writer.read { db in try Self.openTicketRecord(sessionID: sessionID, in: db)?.model() }
    }

    /// The session's newest ticket, in any state.
    public func latestTicket(sessionID: String) async throws -> Ticket? {
        try await writer.read { db in
            try TicketRecord
                .filter(TicketRecord.Columns.sessionID == sessionID)
                .order(TicketRecord.Columns.createdAt.desc, TicketRecord.Columns.id.desc)
                .fetchOne(db)?
                .model()
        }
    }

    /// Queue order: higher level first, then those put at the front, then the longest queued, then the oldest.
    static var queueOrder: [any SQLOrderingTerm] { [
        TicketRecord.Columns.level.desc, TicketRecord.Columns.front.desc,
        TicketRecord.Columns.queuedAt.asc, TicketRecord.Columns.id.asc,
    ] }

    /// Waiting and assigned tickets in queue order: higher level first, then those put at the front, then the
    /// longest queued, then the oldest.
    public func openTickets() async throws -> [Ticket] {
        try await writer.read { db in
            try TicketRecord
                .filter(TicketRecord.isOpen)
                .order(Self.queueOrder)
                .fetchAll(db)
                .map { try $0.model() }
        }
    }

    /// Up to `limit` tickets in any of `states`, newest first. Empty when `states` is empty or `limit` < 1;
    /// pass `TicketState.allCases` for every ticket.
    public func tickets(states: [TicketState], limit: Int) async throws -> [Ticket] {
        guard !states.isEmpty, limit > 0 else { return [] }
        let states = states.map(\.rawValue)
        return try await writer.read { db in
            try TicketRecord
                .filter(states.contains(TicketRecord.Columns.state))
                .order(TicketRecord.Columns.createdAt.desc, TicketRecord.Columns.id.desc)
                .limit(limit)
                .fetchAll(db)
                .map { try $0.model() }
        }
    }

    /// The agent who last helped this session: `agentID` (or `previousAgentID` when the ticket has gone back to
    /// the queue) of its most recently claimed ticket claimed at or after `since`. Nil if there is none.
    /// Agents that were removed are never returned.
    public func lastHelpingAgentID(sessionID: String, since: Date) async throws -> Int64? {
        try await writer.read { db in
            try Int64.fetchOne(db, sql: """
                SELECT COALESCE(agentID, previousAgentID) FROM ticket
                WHERE sessionID = ? AND claimedAt >= ? AND COALESCE(agentID, previousAgentID) IS NOT NULL
                ORDER BY claimedAt DESC, id DESC
                LIMIT 1
                """, arguments: [sessionID, since.storage])
        }
    }

    /// How long tickets waited before an agent took them (claimedAt − queuedAt, in seconds), for the most
    /// recent claims made at or after `since`, newest first, at most `limit`. A ticket put back in the queue
    /// counts again only once it is claimed again. Claims at the moment of queueing (a returning customer's own
    /// agent, a transfer to a named agent) are not waits and don't count.
    public func recentPickupSeconds(limit: Int, since: Date) async throws -> [Double] {
        guard limit > 0 else { return [] }
        return try await writer.read { db in
            try Double.fetchAll(db, sql: """
                SELECT claimedAt - queuedAt FROM ticket
                WHERE claimedAt >= ? AND claimedAt > queuedAt
                ORDER BY claimedAt DESC, id DESC
                LIMIT ?
                """, arguments: [since.storage, limit])
        }
    }
}

// MARK: - Tests only

extension SupportBotDatabase {
    /// Inserts a waiting ticket without checking for an open one, so tests can see the schema refuse it.
    func insertTicketUncheckedForTesting(_ new: NewTicket, at: Date) async throws {
        try await write { db in
            var ticket = TicketRecord(new, maskedPreview: PIIMasker.mask(new.preview), at: at)
            try ticket.insert(db)
        }
    }
}
