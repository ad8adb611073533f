import Foundation
import SupportBotCore
import SupportBotStore

/// A command from an agent's console.
enum AgentCommand: Equatable {
    case login(token: String)
    case queue
    case claim(ticket: Int64?)
    case say(ticket: Int64, text: String)
    case note(ticket: Int64, text: String)
    case transfer(ticket: Int64, skill: String?, agent: String?)
    case close(ticket: Int64, resolution: String)
    case status(AgentStatus)
    case ping
    case bye

    /// Parses one line; the error is the line to send back.
    static func parse(_ bytes: [UInt8]) -> Result<AgentCommand?, AgentCommandError> {
        guard let line = String(validating: bytes, as: UTF8.self) else {
            return .failure(.init(.badUTF8, "That line is not valid UTF-8."))
        }
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .success(nil) }
        guard nestingDepth(of: bytes) <= maxNesting,
              let fields = try? JSONDecoder().decode(Fields.self, from: Data(trimmed.utf8)) else {
            return .failure(.init(.badJSON, "Send one JSON object per line, like {\"type\":\"queue\"}."))
        }
        return Result { try fields.command() }.mapError { $0 as? AgentCommandError ?? .init(.badJSON, "\($0)") }
    }

    /// Commands are flat objects. Foundation's JSON scanner stops at 512 levels of arrays or objects, and on a line
    /// of exactly 513 `[` it traps while it works out where the error is (Swift 6.3, Linux): one line would take the
    /// server down. So lines nested deeper than this are refused before they reach it.
    static let maxNesting = 16

    /// How deep arrays and objects nest in a line, outside strings.
    static func nestingDepth(of bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// A command line's fields as sent, each kept as "absent", "not of its kind" or its value, so every mistake
    /// gets its own message.
    struct Fields: Decodable {
        enum Field<Value: Sendable>: Sendable {
            case absent
            case wrong
            case value(Value)

            var value: Value? { if case .value(let value) = self { value } else { nil } }
        }

        var type: String?
        var ticket: Field<Int64>
        var token, text, skill, agent, resolution, status: Field<String>

        enum Key: String, CodingKey { case type, ticket, token, text, skill, agent, resolution, status }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            type = try? c.decodeIfPresent(String.self, forKey: .type)
            func string(_ key: Key) -> Field<String> {
                guard c.contains(key) else { return .absent }
                return (try? c.decode(String.self, forKey: key)).map(Field.value) ?? .wrong
            }
            (token, text, skill, agent, resolution, status) =
                (string(.token), string(.text), string(.skill), string(.agent), string(.resolution), string(.status))
            // A ticket number: 12, 12.0 or "12" (never true or false); at least 1.
            if !c.contains(.ticket) {
                ticket = .absent
            } else if let number = try? c.decode(Int64.self, forKey: .ticket) {
                ticket = number >= 1 ? .value(number) : .wrong
            } else if let number = try? c.decode(Double.self, forKey: .ticket), number >= 1,
                      let whole = Int64(exactly: number) {
                ticket = .value(whole)
            } else if let text = try? c.decode(String.self, forKey: .ticket),
                      let number = Int64(text.trimmingCharacters(in: .whitespaces)), number >= 1 {
                ticket = .value(number)
            } else {
                ticket = .wrong
            }
        }

        func command() throws -> AgentCommand {
            guard let type else {
                throw AgentCommandError(.missingField, "The field 'type' is missing, like {\"type\":\"queue\"}.")
            }
            switch type {
            case "login": return .login(token: try nonEmpty(token, "token"))
            case "queue": return .queue
            case "claim": return .claim(ticket: try ticketNumber(required: false))
            case "say": return .say(ticket: try ticketNumber()!, text: try nonEmpty(text, "text"))
            case "note": return .note(ticket: try ticketNumber()!, text: try nonEmpty(text, "text"))
            case "transfer":
                let id = try ticketNumber()!
                let skill = skill.value.flatMap { $0.isEmpty ? nil : $0 }
                let agent = agent.value.flatMap { $0.isEmpty ? nil : $0 }
                guard (skill == nil) != (agent == nil) else {
                    throw AgentCommandError(.missingField, "Give either 'skill' or 'agent', like "
                                            + "{\"type\":\"transfer\",\"ticket\":12,\"skill\":\"billing\"}.")
                }
                return .transfer(ticket: id, skill: skill, agent: agent)
            case "close":
                let id = try ticketNumber()!
                guard let resolution = resolution.value?.trimmingCharacters(in: .whitespacesAndNewlines),
                      !resolution.isEmpty else {
                    throw AgentCommandError(.missingField, "Say how it was resolved: 'resolution' is missing.")
                }
                return .close(ticket: id, resolution: resolution)
            case "status":
                guard let status = status.value.flatMap(AgentStatus.init(rawValue:)) else {
                    throw AgentCommandError(.invalidField, "The field 'status' must be online or away.")
                }
                return .status(status)
            case "ping": return .ping
            case "bye": return .bye
            default:
                throw AgentCommandError(.unknownType, "Unknown command '\(type.prefix(40))'. Use login, queue, claim, "
                                        + "say, note, transfer, close, status, ping or bye.")
            }
        }

        private func ticketNumber(required: Bool = true) throws -> Int64? {
            switch ticket {
            case .absent:
                guard required else { return nil }
                throw AgentCommandError(.missingField, "The field 'ticket' is missing.")
            case .wrong: throw AgentCommandError(.invalidField, "The field 'ticket' must be a ticket number, like 12.")
            case .value(let number): return number
            }
        }

        private func nonEmpty(_ field: Field<String>, _ name: String) throws -> String {
            guard let value = field.value else {
                throw AgentCommandError(.missingField, "The field '\(name)' is missing or not text.")
            }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw AgentCommandError(.invalidField, "The field '\(name)' is empty.") }
            return trimmed
        }
    }
}

struct AgentCommandError: Error, Equatable {
    var code: AgentErrorCode
    var message: String
    init(_ code: AgentErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
