import ArgumentParser
import Foundation
import SupportBotStore

struct TranscriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcript",
        abstract: "Print one conversation from the database (e-mails, phone and card numbers are masked).")

    @Argument(help: "The session id, as sent in the welcome message (s-…).")
    var session: String

    @Option(help: "SQLite database file.")
    var db: String = "supportbot.sqlite"

    @Flag(help: "Print the conversation as JSON.")
    var json = false

    func run() async throws {
        let database = try DatabaseOptions.openForReading(db)
        guard let stored = try await database.session(id: session) else {
            throw UserFacingError("No conversation with the id '\(session)' in \(db).")
        }
        let entries = try await database.transcript(sessionID: session)
        let formatter = ISO8601DateFormatter()
        if json {
            struct Line: Encodable {
                var at: String, from: String, text: String
                var intent: String?, confidence: Double?, action: String?, kb_version: Int?
            }
            struct Output: Encodable {
                var session: String, started: String, closed: String?, messages: [Line]
            }
            let output = Output(
                session: stored.id, started: formatter.string(from: stored.createdAt),
                closed: stored.closedAt.map(formatter.string(from:)),
                messages: entries.map {
                    Line(at: formatter.string(from: $0.at), from: $0.speaker.rawValue, text: $0.text, intent: $0.intent,
                         confidence: $0.confidence, action: $0.action?.rawValue, kb_version: $0.kbVersion)
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
            return
        }
        print("Conversation \(stored.id), started \(formatter.string(from: stored.createdAt))"
            + (stored.closedAt.map { ", ended \(formatter.string(from: $0))" } ?? ""))
        for entry in entries {
            var meta: [String] = []
            if let action = entry.action { meta.append(action.rawValue) }
            if let intent = entry.intent { meta.append(intent) }
            if let confidence = entry.confidence { meta.append(String(format: "%.2f", confidence)) }
            if let version = entry.kbVersion { meta.append("kb v\(version)") }
            let time = formatter.string(from: entry.at)
            print("[\(time)] \(entry.speaker.rawValue): \(entry.text)" + (meta.isEmpty ? "" : "  (\(meta.joined(separator: ", ")))"))
        }
    }
}
