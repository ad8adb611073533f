import Foundation
import SupportBotCore
import SupportBotStore

// What agents are sent about tickets: a queue entry, and everything about a claimed chat.

extension HandoffDesk {
    /// A ticket as the queue view shows it to this agent.
    func summary(_ ticket: Ticket, now: Date, for agentID: Int64) -> JSONValue {
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
        if ticket.state == .waiting, queue.members[agentID] != nil {
            fields.append(("for_you", .bool(queue.mayTake(agentID, Self.queued(ticket)))))
        }
        return .object(fields)
    }

    /// Everything an agent needs so the customer never repeats themselves.
    func claimedLine(_ ticket: Ticket, sticky: Bool, transferredFrom: String?) async throws -> [UInt8] {
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
