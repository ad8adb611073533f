import Foundation
import Testing
@testable import SupportBotServer

/// The agent port's commands, read with `Decodable`: every mistake gets its own code and message.
@Suite("Agent commands")
struct AgentCommandTests {
    static func parse(_ line: String) -> Result<AgentCommand?, AgentCommandError> {
        AgentCommand.parse(Array(line.utf8))
    }

    @Test("a ticket number may be 12, 12.0 or '12'; a claim without one takes the next", arguments: [
        (#"{"type":"claim","ticket":12}"#, Int64?.some(12)),
        (#"{"type":"claim","ticket":12.0}"#, 12),
        (#"{"type":"claim","ticket":" 12 "}"#, 12),
        (#"{"type":"claim"}"#, nil),
    ])
    func ticketNumbers(line: String, ticket: Int64?) throws {
        #expect(try Self.parse(line).get() == .claim(ticket: ticket))
    }

    @Test("what is wrong is said", arguments: [
        (#"{"type":"claim","ticket":true}"#, AgentErrorCode.invalidField, "The field 'ticket' must be a ticket number, like 12."),
        (#"{"type":"claim","ticket":0}"#, .invalidField, "The field 'ticket' must be a ticket number, like 12."),
        (#"{"type":"claim","ticket":1.5}"#, .invalidField, "The field 'ticket' must be a ticket number, like 12."),
        (#"{"type":"claim","ticket":null}"#, .invalidField, "The field 'ticket' must be a ticket number, like 12."),
        (#"{"type":"claim","ticket":"twelve"}"#, .invalidField, "The field 'ticket' must be a ticket number, like 12."),
        (#"{"type":"say","text":"hi"}"#, .missingField, "The field 'ticket' is missing."),
        (#"{"type":"say","ticket":3,"text":5}"#, .missingField, "The field 'text' is missing or not text."),
        (#"{"type":"say","ticket":3,"text":"  "}"#, .invalidField, "The field 'text' is empty."),
        (#"{"ticket":3}"#, .missingField, #"The field 'type' is missing, like {"type":"queue"}."#),
        (#"{"type":7}"#, .missingField, #"The field 'type' is missing, like {"type":"queue"}."#),
        (#"{"type":"dance"}"#, .unknownType, "Unknown command 'dance'. Use login, queue, claim, say, note, transfer, close, status, ping or bye."),
        (#"{"type":"status","status":"busy"}"#, .invalidField, "The field 'status' must be online or away."),
        (#"{"type":"transfer","ticket":3,"skill":"billing","agent":"Bea"}"#, .missingField,
         #"Give either 'skill' or 'agent', like {"type":"transfer","ticket":12,"skill":"billing"}."#),
        (#"{"type":"close","ticket":3}"#, .missingField, "Say how it was resolved: 'resolution' is missing."),
        (#"[1,2]"#, .badJSON, #"Send one JSON object per line, like {"type":"queue"}."#),
        (#"{"type":"queue"} and more"#, .badJSON, #"Send one JSON object per line, like {"type":"queue"}."#),
    ])
    func mistakes(line: String, code: AgentErrorCode, message: String) {
        #expect(throws: AgentCommandError(code, message)) { try Self.parse(line).get() }
    }

    @Test("a line nested deeper than any command is refused before JSONDecoder, which traps on exactly 513 '['")
    func deepNesting() throws {
        for deep in [String(repeating: "[", count: 513),
                     #"{"type":"queue","x":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"] {
            #expect(throws: AgentCommandError(.badJSON, #"Send one JSON object per line, like {"type":"queue"}."#)) {
                try Self.parse(deep).get()
            }
        }
        #expect(AgentCommand.nestingDepth(of: Array(#"{"text":"[[[{{{ \" ]"}"#.utf8)) == 1)
        #expect(try Self.parse(#"{"type":"queue","x":[[1]]}"#).get() == .queue)
    }

    @Test("commands read whole, with text trimmed; a blank line is no command")
    func commands() throws {
        #expect(try Self.parse(#"{"type":"login","token":" sbt_x "}"#).get() == .login(token: "sbt_x"))
        #expect(try Self.parse(#"{"type":"say","ticket":"4","text":" On it. ","extra":[1]}"#).get()
                == .say(ticket: 4, text: "On it."))
        #expect(try Self.parse(#"{"type":"transfer","ticket":4,"agent":"Bea","skill":""}"#).get()
                == .transfer(ticket: 4, skill: nil, agent: "Bea"))
        #expect(try Self.parse(#"{"type":"status","status":"away"}"#).get() == .status(.away))
        #expect(try Self.parse("   ").get() == nil)
        #expect(throws: AgentCommandError(.badUTF8, "That line is not valid UTF-8.")) {
            try AgentCommand.parse([0x7B, 0xFF, 0x7D]).get()
        }
    }
}
