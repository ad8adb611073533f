import Foundation
import SupportBotCore

/// Error codes sent to clients as `{"type":"error","code":…}`; docs/protocol.md lists them.
public enum ChatErrorCode: String, Sendable {
    case lineTooLong = "line_too_long"
    case badJSON = "bad_json"
    case badUTF8 = "bad_utf8"
    case unknownType = "unknown_type"
    case missingField = "missing_field"
    case invalidField = "invalid_field"
    case rateLimited = "rate_limited"
    case serverFull = "server_full"
    case tooManyConnections = "too_many_connections"
    case idleTimeout = "idle_timeout"
    case unknownSession = "unknown_session"
    case internalError = "internal_error"
    case shuttingDown = "shutting_down"
    case openElsewhere = "open_elsewhere"
}

/// A message from the chat widget (or `nc`).
enum ClientMessage: Equatable {
    case say(text: String)
    case choose(option: Int)
    case hello(session: String)
    case rate(score: Int, comment: String?)
    case ping
    case bye
}

/// Why a line could not be understood; becomes an error line, and the connection stays open.
struct ClientMessageError: Error, Equatable {
    var code: ChatErrorCode
    var message: String
}

enum ClientMessageParser {
    /// Parses one line (without its newline). Lines not starting with `{` are `say` messages.
    static func parse(_ bytes: [UInt8]) -> Result<ClientMessage?, ClientMessageError> {
        guard let line = String(validating: bytes, as: UTF8.self) else {
            return .failure(ClientMessageError(code: .badUTF8,
                                               message: BotMessages.unreadableLetters))
        }
        // Nothing to trim when the line starts and ends with a printable ASCII character (most lines; Foundation's
        // trimming is slow). Other lines may start or end with any Unicode space.
        let printable: ClosedRange<UInt8> = 0x21...0x7E
        let trimmed = bytes.first.map(printable.contains) == true && bytes.last.map(printable.contains) == true
            ? line : line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .success(nil) }
        guard trimmed.hasPrefix("{") else { return .success(.say(text: trimmed)) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
            return .failure(ClientMessageError(code: .badJSON,
                                               message: "That line is not a valid JSON object. Send one object per line, like {\"type\":\"say\",\"text\":\"hi\"}."))
        }
        guard let type = object["type"] as? String else {
            return .failure(missing("type", example: "{\"type\":\"say\",\"text\":\"hi\"}"))
        }
        switch type {
        case "say":
            guard let value = object["text"] else { return .failure(missing("text", example: "{\"type\":\"say\",\"text\":\"hi\"}")) }
            guard let text = value as? String else { return .failure(invalid("text", "must be a string")) }
            return .success(.say(text: text))
        case "choose":
            guard let value = object["option"] else { return .failure(missing("option", example: "{\"type\":\"choose\",\"option\":1}")) }
            guard let option = integer(value) else { return .failure(invalid("option", "must be a whole number, like 1")) }
            return .success(.choose(option: option))
        case "hello":
            guard let value = object["session"] else { return .failure(missing("session", example: "{\"type\":\"hello\",\"session\":\"…\"}")) }
            // Session ids are printable ASCII (ours are "s-" and 22 letters or digits): anything else, such as an id
            // with a NUL and more after it, would name another session to SQLite than the one it spells.
            guard let session = value as? String, !session.isEmpty, session.utf8.count <= 64,
                  session.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                return .failure(invalid("session", "must be the session id from the welcome message"))
            }
            return .success(.hello(session: session))
        case "rate":
            guard let value = object["score"] else { return .failure(missing("score", example: "{\"type\":\"rate\",\"score\":5}")) }
            guard let score = integer(value), (1...5).contains(score) else {
                return .failure(invalid("score", "must be a whole number from 1 to 5"))
            }
            let comment = object["comment"] as? String
            return .success(.rate(score: score, comment: comment?.isEmpty == true ? nil : comment))
        case "ping":
            return .success(.ping)
        case "bye":
            return .success(.bye)
        default:
            return .failure(ClientMessageError(
                code: .unknownType,
                message: "Unknown message type '\(type.prefix(40))'. Use say, choose, hello, rate, ping or bye."))
        }
    }

    private static func integer(_ value: Any) -> Int? {
        // JSON true/false arrive as NSNumber too; on Linux `is Bool` is also true for 0 and 1.
        if let number = value as? NSNumber, String(cString: number.objCType) == "c" { return nil }
        if let int = value as? Int { return int }
        if let double = value as? Double, double == double.rounded(), abs(double) < 1e9 { return Int(double) }
        return nil
    }

    private static func missing(_ field: String, example: String) -> ClientMessageError {
        ClientMessageError(code: .missingField, message: "The field '\(field)' is missing. For example: \(example)")
    }

    private static func invalid(_ field: String, _ rule: String) -> ClientMessageError {
        ClientMessageError(code: .invalidField, message: "The field '\(field)' \(rule).")
    }
}

/// A message to the customer's client. Encoded as one JSON object per line.
enum ServerMessage: Sendable, Equatable {
    struct HistoryItem: Encodable, Sendable, Equatable {
        var from: String
        var text: String
        var at: String
    }

    case welcome(session: String, text: String, kbVersion: Int, resumed: Bool, history: [HistoryItem])
    case reply(BotReply, kbVersion: Int)
    case rated(score: Int, text: String)
    case pong
    case bye(text: String)
    case error(code: ChatErrorCode, message: String)
    /// The chat is going to a person.
    case handoff(ticket: Int64, reason: String, priority: String, position: Int, waitMinutes: Int, text: String)
    /// The customer's place in line changed.
    case queue(ticket: Int64, position: Int, waitMinutes: Int, text: String)
    case agentJoined(agent: String, text: String)
    /// A person's message.
    case agent(agent: String, text: String)
    /// The person left: the chat was closed (then `askRating`), handed on, or the connection was lost.
    case agentLeft(agent: String, text: String, askRating: Bool)
    /// A message while waiting for (or talking to) a person was added to the ticket.
    case received(ticket: Int64, text: String?)
    /// The customer left the line ("never mind"); the bot answers again.
    case queueLeft(ticket: Int64, text: String)

    func jsonLine() -> [UInt8] {
        var object: [(String, JSONValue)]
        switch self {
        case let .welcome(session, text, kbVersion, resumed, history):
            object = [("type", "welcome"), ("session", .string(session)), ("text", .string(text)),
                      ("kb_version", .int(kbVersion))]
            if resumed {
                object.append(("resumed", .bool(true)))
                object.append(("history", .array(history.map {
                    .object([("from", .string($0.from)), ("text", .string($0.text)), ("at", .string($0.at))])
                })))
            }
        case let .reply(reply, kbVersion):
            object = [("type", "reply"), ("action", .string(reply.action.rawValue)), ("text", .string(reply.text)),
                      ("intent", reply.intent.map(JSONValue.string) ?? .null),
                      ("confidence", .double(reply.confidence)), ("kb_version", .int(kbVersion)),
                      ("options", .array(reply.options.map {
                          .object([("n", .int($0.n)), ("intent", .string($0.intent)), ("title", .string($0.title))])
                      })),
                      ("suggestions", .array(reply.suggestions.map {
                          .object([("intent", .string($0.intent)), ("title", .string($0.title))])
                      }))]
        case let .rated(score, text):
            object = [("type", "rated"), ("score", .int(score)), ("text", .string(text))]
        case .pong:
            object = [("type", "pong")]
        case let .bye(text):
            object = [("type", "bye"), ("text", .string(text))]
        case let .error(code, message):
            object = [("type", "error"), ("code", .string(code.rawValue)), ("message", .string(message))]
        case let .handoff(ticket, reason, priority, position, waitMinutes, text):
            object = [("type", "handoff"), ("ticket", .int(Int(ticket))), ("reason", .string(reason)),
                      ("priority", .string(priority)), ("position", .int(position)),
                      ("wait_minutes", .int(waitMinutes)), ("text", .string(text))]
        case let .queue(ticket, position, waitMinutes, text):
            object = [("type", "queue"), ("ticket", .int(Int(ticket))), ("position", .int(position)),
                      ("wait_minutes", .int(waitMinutes)), ("text", .string(text))]
        case let .agentJoined(agent, text):
            object = [("type", "agent_joined"), ("agent", .string(agent)), ("text", .string(text))]
        case let .agent(agent, text):
            object = [("type", "agent"), ("agent", .string(agent)), ("text", .string(text))]
        case let .agentLeft(agent, text, askRating):
            object = [("type", "agent_left"), ("agent", .string(agent)), ("text", .string(text))]
            if askRating { object.append(("ask_rating", .bool(true))) }
        case let .received(ticket, text):
            object = [("type", "received"), ("ticket", .int(Int(ticket)))]
            if let text { object.append(("text", .string(text))) }
        case let .queueLeft(ticket, text):
            object = [("type", "queue_left"), ("ticket", .int(Int(ticket))), ("text", .string(text))]
        }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONValue.object(object).write(into: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }
}
