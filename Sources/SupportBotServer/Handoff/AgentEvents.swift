import Foundation
import SupportBotCore
import SupportBotStore

/// Why the agent port refused a command (the `code` of an `error` line).
enum AgentErrorCode: String, Sendable {
    case badUTF8 = "bad_utf8"
    case badJSON = "bad_json"
    case missingField = "missing_field"
    case invalidField = "invalid_field"
    case unknownType = "unknown_type"
    case rateLimited = "rate_limited"
    case loginTimeout = "login_timeout"
    case notLoggedIn = "not_logged_in"
    case alreadyLoggedIn = "already_logged_in"
    case authFailed = "auth_failed"
    case loginSlowed = "login_slowed"
    case signedInElsewhere = "signed_in_elsewhere"
    case agentRemoved = "agent_removed"
    case unknownTicket = "unknown_ticket"
    case alreadyClaimed = "already_claimed"
    case ticketClosed = "ticket_closed"
    case notYourTicket = "not_your_ticket"
    case queueEmpty = "queue_empty"
    case agentOffline = "agent_offline"
    case unknownSkill = "unknown_skill"
    case internalError = "internal_error"
}

/// A ticket as the queue view shows it to one agent.
struct TicketSummary: Sendable, Equatable {
    var ticket: Int64
    var priority: String
    var reason: String
    var waitingSeconds: Int
    var tags: [String]
    var preview: String
    var state: TicketState
    var customerOnline: Bool
    var skill: String?
    var agent: String?
    var replyEmail: String?
    /// Whether this agent may take it (waiting tickets only).
    var forYou: Bool?

    var fields: [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("ticket", .int(Int(ticket))), ("priority", .string(priority)), ("reason", .string(reason)),
            ("waiting_s", .int(waitingSeconds)), ("tags", .array(tags.map(JSONValue.string))),
            ("preview", .string(preview)), ("state", .string(state.rawValue)), ("customer_online", .bool(customerOnline)),
        ]
        if let skill { fields.append(("skill", .string(skill))) }
        if let agent { fields.append(("agent", .string(agent))) }
        if let replyEmail { fields.append(("reply_email", .string(replyEmail))) }
        if let forYou { fields.append(("for_you", .bool(forYou))) }
        return fields
    }
}

/// Everything an agent who takes a chat needs, so the customer never repeats themselves.
struct ClaimedChat: Sendable, Equatable {
    struct Line: Sendable, Equatable {
        /// customer, bot, agent, system, or note (an agent's internal note).
        var from: String
        var text: String
        var at: Date
        var intent: String?
        var confidence: Double?
        var author: String?
    }

    struct Guess: Sendable, Equatable {
        var intent: String
        var title: String
        var score: Double
    }

    var ticket: Int64
    var session: String
    var reason: String
    var priority: String
    var tags: [String]
    var mood: Double
    var moodReasons: [MoodReason]
    var candidates: [Guess]
    /// The rule trace ("angry+not_understood → medium-high").
    var why: String
    /// The reason in words ("Upset: …").
    var whyInWords: String
    var customerOnline: Bool
    var transcript: [Line]
    var replyEmail: String?
    /// Back to the agent who helped this customer before.
    var sticky = false
    var transferredFrom: String?

    var fields: [(String, JSONValue)] {
        let formatter = ISO8601DateFormatter()
        var fields: [(String, JSONValue)] = [
            ("ticket", .int(Int(ticket))), ("session", .string(session)), ("reason", .string(reason)),
            ("priority", .string(priority)), ("tags", .array(tags.map(JSONValue.string))),
            ("mood", .object([
                ("score", .double(mood)),
                ("reasons", .array(moodReasons.map {
                    .object([("kind", .string($0.kind.rawValue)), ("evidence", .string($0.evidence)),
                             ("weight", .double($0.weight))])
                })),
            ])),
            ("candidates", .array(candidates.map {
                .object([("intent", .string($0.intent)), ("title", .string($0.title)), ("score", .double($0.score))])
            })),
            ("why", .string(why)), ("why_in_words", .string(whyInWords)), ("customer_online", .bool(customerOnline)),
            ("transcript", .array(transcript.map { line in
                var fields: [(String, JSONValue)] = [
                    ("from", .string(line.from)), ("text", .string(line.text)),
                    ("at", .string(formatter.string(from: line.at))),
                    ("intent", line.intent.map(JSONValue.string) ?? .null),
                    ("confidence", line.confidence.map(JSONValue.double) ?? .null),
                ]
                if let author = line.author { fields.append(("author", .string(author))) }
                return .object(fields)
            })),
        ]
        if let replyEmail { fields.append(("reply_email", .string(replyEmail))) }
        if sticky { fields.append(("sticky", .bool(true))) }
        if let transferredFrom { fields.append(("transferred_from", .string(transferredFrom))) }
        return fields
    }
}

/// Everything the agent port sends, typed; it becomes a JSON line only at the edge (`jsonLine()`).
enum AgentEvent: Sendable, Equatable {
    case hello(text: String)
    case welcome(agent: String, skills: [String], status: AgentStatus)
    case queue([TicketSummary])
    case ticketNew(TicketSummary)
    case ticketTaken(ticket: Int64, agent: String)
    case ticketGone(ticket: Int64, state: TicketState)
    case claimed(ClaimedChat)
    case sent(ticket: Int64, customerOnline: Bool)
    case noted(ticket: Int64)
    case transferred(ticket: Int64, to: String)
    case closed(ticket: Int64)
    case status(AgentStatus)
    /// The customer wrote in a chat this agent has.
    case customer(ticket: Int64, text: String)
    case customerBack(ticket: Int64)
    case customerLeft(ticket: Int64, saidBye: Bool)
    /// A waiting customer left an address for the team's reply (whole, for the team).
    case replyEmail(ticket: Int64, address: String)
    case pong
    case bye
    case error(AgentErrorCode, String, ticket: Int64? = nil)

    func jsonLine() -> [UInt8] {
        let (type, fields) = parts
        var out: [UInt8] = []
        JSONValue.object([("type", .string(type))] + fields).write(into: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private var parts: (String, [(String, JSONValue)]) {
        switch self {
        case .hello(let text): ("hello", [("text", .string(text))])
        case .welcome(let agent, let skills, let status):
            ("welcome", [("agent", .string(agent)), ("skills", .array(skills.map(JSONValue.string))),
                         ("status", .string(status.rawValue))])
        case .queue(let tickets): ("queue", [("tickets", .array(tickets.map { .object($0.fields) }))])
        case .ticketNew(let summary): ("ticket_new", summary.fields)
        case .ticketTaken(let ticket, let agent): ("ticket_taken", [("ticket", .int(Int(ticket))), ("agent", .string(agent))])
        case .ticketGone(let ticket, let state):
            ("ticket_gone", [("ticket", .int(Int(ticket))), ("state", .string(state.rawValue))])
        case .claimed(let chat): ("claimed", chat.fields)
        case .sent(let ticket, let online): ("sent", [("ticket", .int(Int(ticket))), ("customer_online", .bool(online))])
        case .noted(let ticket): ("noted", [("ticket", .int(Int(ticket)))])
        case .transferred(let ticket, let to): ("transferred", [("ticket", .int(Int(ticket))), ("to", .string(to))])
        case .closed(let ticket): ("closed", [("ticket", .int(Int(ticket)))])
        case .status(let status): ("status", [("status", .string(status.rawValue))])
        case .customer(let ticket, let text): ("customer", [("ticket", .int(Int(ticket))), ("text", .string(text))])
        case .customerBack(let ticket): ("customer_back", [("ticket", .int(Int(ticket)))])
        case .customerLeft(let ticket, let saidBye):
            ("customer_left", [("ticket", .int(Int(ticket))), ("said_bye", .bool(saidBye))])
        case .replyEmail(let ticket, let address):
            ("reply_email", [("ticket", .int(Int(ticket))), ("address", .string(address))])
        case .pong: ("pong", [])
        case .bye: ("bye", [])
        case .error(let code, let message, let ticket):
            ("error", [("code", .string(code.rawValue)), ("message", .string(message))]
                + (ticket.map { [("ticket", JSONValue.int(Int($0)))] } ?? []))
        }
    }
}

extension Outbox {
    /// Sends one agent event (encoded here, at the edge).
    func send(_ event: AgentEvent) { send(event.jsonLine()) }
}
