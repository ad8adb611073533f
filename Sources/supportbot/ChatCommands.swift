import ArgumentParser
import Foundation
import SupportBotCore
import SupportBotStore

struct Ask: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the bot one question and print its answer (no server needed).")

    @OptionGroup var knowledge: KnowledgeOptions

    @Argument(help: "The customer's message, in quotes.")
    var text: String

    @Flag(help: "Print the answer as JSON.")
    var json = false

    @Flag(help: "Show how the message was read: words, corrections, candidates and scores.")
    var explain = false

    func run() throws {
        let engine = try knowledge.loadEngine()
        var context = DialogueContext()
        let turn = engine.respond(to: text, context: &context)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(ReplyJSON(turn, explain: explain)), as: UTF8.self))
            return
        }
        print(ChatPrinter.format(turn))
        if explain { print("\n" + Explanation.text(for: turn, engine: engine)) }
    }
}

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with the bot in this terminal (no server needed). Type 'quit' to stop.")

    @OptionGroup var knowledge: KnowledgeOptions

    @Flag(help: "After each answer, show how the message was read and scored.")
    var explain = false

    func run() throws {
        let engine = try knowledge.loadEngine()
        var context = DialogueContext()
        print("bot> \(engine.welcome)")
        while true {
            print("you> ", terminator: "")
            fflush(nil)
            guard let line = readLine() else { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if ["quit", "exit", ":q"].contains(trimmed.lowercased()) { break }
            if trimmed.isEmpty { continue }
            let turn: BotTurn
            if !context.pendingOptions.isEmpty, let n = Int(trimmed) {
                turn = engine.respond(choosing: n, context: &context)
            } else {
                turn = engine.respond(to: trimmed, context: &context)
            }
            print("bot> " + ChatPrinter.format(turn).replacingOccurrences(of: "\n", with: "\n     "))
            if explain { print(Explanation.text(for: turn, engine: engine)) }
        }
    }
}

enum ChatPrinter {
    static func format(_ turn: BotTurn) -> String {
        let reply = turn.reply
        var text = reply.text
        if !reply.suggestions.isEmpty {
            text += "\n[more: " + reply.suggestions.map(\.title).joined(separator: " | ") + "]"
        }
        let meta = reply.intent.map { "\($0), " } ?? ""
        text += "\n(\(reply.action.rawValue): \(meta)confidence \(String(format: "%.2f", reply.confidence)))"
        if let handoff = turn.handoff {
            // No people here: the server would open a ticket; this shows what it would be.
            text += "\n[the server would hand this chat to a person: \(handoff.reason.rawValue), \(handoff.level.name)]"
        }
        return text
    }
}
