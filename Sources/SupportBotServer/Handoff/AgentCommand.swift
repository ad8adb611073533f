import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
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
        guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
            return .failure(.init(.badJSON, "Send one JSON object per line, like {\"type\":\"queue\"}."))
        }
        guard let type = object["type"] as? String else {
            return .failure(.init(.missingField, "The field 'type' is missing, like {\"type\":\"queue\"}."))
        }
        func ticket(required: Bool = true) -> Result<Int64?, AgentCommandError> {
            // JSON true/false arrive as NSNumber with objCType "c": not a ticket number.
            guard let value = object["ticket"] else {
                return required ? .failure(.init(.missingField, "The field 'ticket' is missing.")) : .success(nil)
            }
            if let number = value as? NSNumber, String(cString: number.objCType) != "c",
               number.doubleValue == number.doubleValue.rounded(), number.doubleValue >= 1 {
                return .success(number.int64Value)
            }
            if let text = value as? String, let number = Int64(text.trimmingCharacters(in: .whitespaces)), number >= 1 {
                return .success(number)
            }
            return .failure(.init(.invalidField, "The field 'ticket' must be a ticket number, like 12."))
        }
        func text(_ field: String) -> Result<String, AgentCommandError> {
            guard let value = object[field] as? String else {
                return .failure(.init(.missingField, "The field '\(field)' is missing or not text."))
            }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { return .failure(.init(.invalidField, "The field '\(field)' is empty.")) }
            return .success(trimmed)
        }
        do {
            switch type {
            case "login": return .success(.login(token: try text("token").get()))
            case "queue": return .success(.queue)
            case "claim": return .success(.claim(ticket: try ticket(required: false).get()))
            case "say": return .success(.say(ticket: try ticket().get()!, text: try text("text").get()))
            case "note": return .success(.note(ticket: try ticket().get()!, text: try text("text").get()))
            case "transfer":
                let id = try ticket().get()!
                let skill = (object["skill"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                let agent = (object["agent"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                guard (skill == nil) != (agent == nil) else {
                    return .failure(.init(.missingField, "Give either 'skill' or 'agent', like "
                                          + "{\"type\":\"transfer\",\"ticket\":12,\"skill\":\"billing\"}."))
                }
                return .success(.transfer(ticket: id, skill: skill, agent: agent))
            case "close":
                let id = try ticket().get()!
                let resolution = (object["resolution"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let resolution, !resolution.isEmpty else {
                    return .failure(.init(.missingField, "Say how it was resolved: 'resolution' is missing."))
                }
                return .success(.close(ticket: id, resolution: resolution))
            case "status":
                guard let status = (object["status"] as? String).flatMap(AgentStatus.init(rawValue:)) else {
                    return .failure(.init(.invalidField, "The field 'status' must be online or away."))
                }
                return .success(.status(status))
            case "ping": return .success(.ping)
            case "bye": return .success(.bye)
            default:
                return .failure(.init(.unknownType, "Unknown command '\(type.prefix(40))'. Use login, queue, claim, "
                                      + "say, note, transfer, close, status, ping or bye."))
            }
        } catch {
            return .failure(error)
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
