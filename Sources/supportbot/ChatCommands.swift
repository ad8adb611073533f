import ArgumentParser
import Foundation
import SupportBotCore

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
        let engine = SupportEngine(knowledgeBase: try knowledge.loadKnowledgeBase(), version: 0)
        var context = DialogueContext()
        let reply = engine.reply(to: text, context: &context)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(ReplyJSON(reply, explain: explain)), as: UTF8.self))
            return
        }
        print(ChatPrinter.format(reply))
        if explain { print("\n" + Explanation.text(for: reply, config: engine.config)) }
    }
}

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with the bot in this terminal (no server needed). Type 'quit' to stop.")

    @OptionGroup var knowledge: KnowledgeOptions

    @Flag(help: "After each answer, show how the message was read and scored.")
    var explain = false

    func run() throws {
        let engine = SupportEngine(knowledgeBase: try knowledge.loadKnowledgeBase(), version: 0)
        var context = DialogueContext()
        print("bot> \(engine.welcome)")
        while true {
            print("you> ", terminator: "")
            fflush(nil)
            guard let line = readLine() else { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if ["quit", "exit", ":q"].contains(trimmed.lowercased()) { break }
            if trimmed.isEmpty { continue }
            let reply: BotReply
            if !context.pendingOptions.isEmpty, let n = Int(trimmed) {
                reply = engine.choose(option: n, context: &context)
            } else {
                reply = engine.reply(to: trimmed, context: &context)
            }
            print("bot> " + ChatPrinter.format(reply).replacingOccurrences(of: "\n", with: "\n     "))
            if explain { print(Explanation.text(for: reply, config: engine.config)) }
        }
    }
}

enum ChatPrinter {
    static func format(_ reply: BotReply) -> String {
        var text = reply.text
        if !reply.suggestions.isEmpty {
            text += "\n[more: " + reply.suggestions.map(\.title).joined(separator: " | ") + "]"
        }
        let meta = reply.intent.map { "\($0), " } ?? ""
        return text + "\n(\(reply.action.rawValue): \(meta)confidence \(String(format: "%.2f", reply.confidence)))"
    }
}
