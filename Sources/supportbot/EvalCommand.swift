import ArgumentParser
import Foundation
import SupportBotCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure matching on the knowledge base: every example routed with itself left out.")

    @OptionGroup var knowledge: KnowledgeOptions

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "How many misses to list.")
    var misses: Int = 20

    @Option(name: .customLong("out-of-scope"),
            help: "A text file of questions the bot should NOT answer, one per line; reports how many fall back.")
    var outOfScope: String?

    @Option(help: "Write every scored message (leave-one-out and out-of-scope) as tab-separated rows to this file.")
    var scores: String?

    func run() throws {
        let engine = SupportEngine(knowledgeBase: try knowledge.loadKnowledgeBase(), version: 0)
        let report = LeaveOneOut.evaluate(engine)
        var wronglyAnswered: [(String, BotReply)] = []
        var outOfScopeCount = 0
        if let outOfScope {
            guard let text = try? String(contentsOfFile: outOfScope, encoding: .utf8) else {
                throw UserFacingError("Can't read \(outOfScope). Pass a UTF-8 text file with one question per line.")
            }
            for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                outOfScopeCount += 1
                var context = DialogueContext()
                let reply = engine.reply(to: String(line), context: &context)
                if reply.action != .fallback { wronglyAnswered.append((String(line), reply)) }
            }
        }
        if let scores {
            var tsv = "set\tintent\tlanded_on\tscore\tlead\ttext\n"
            for row in report.rows {
                tsv += "example\t\(row.intent)\t\(row.landedOn ?? "")\t\(row.score)\t\(row.lead)\t\(row.example)\n"
            }
            if let outOfScope, let text = try? String(contentsOfFile: outOfScope, encoding: .utf8) {
                for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    let result = engine.matcher.match(String(line), limit: 2)
                    let best = result.candidates.first
                    let lead = (best?.score ?? 0) - (result.candidates.dropFirst().first?.score ?? 0)
                    tsv += "out_of_scope\t\t\(best?.intent ?? "")\t\(best?.score ?? 0)\t\(lead)\t\(line)\n"
                }
            }
            try tsv.write(toFile: scores, atomically: true, encoding: .utf8)
        }
        let fallbackRate = outOfScopeCount == 0 ? 0 : 1 - Double(wronglyAnswered.count) / Double(outOfScopeCount)
        if json {
            var object: [String: Any] = [
                "examples": report.total, "landed": report.landed, "answered": report.answered,
                "leave_one_out_accuracy": report.landedRate, "answered_rate": report.answeredRate,
            ]
            if outOfScopeCount > 0 { object["out_of_scope_fallback_rate"] = fallbackRate }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(String(format: "Leave-one-out: %d of %d examples land on their own intent (%.1f%%); %.1f%% are answered confidently.",
                     report.landed, report.total, report.landedRate * 100, report.answeredRate * 100))
        if outOfScopeCount > 0 {
            print(String(format: "Out of scope: %d of %d questions fall back (%.1f%%).",
                         outOfScopeCount - wronglyAnswered.count, outOfScopeCount, fallbackRate * 100))
            for (question, reply) in wronglyAnswered.prefix(misses) {
                print(String(format: "  %@ instead of fallback: \"%@\" -> %@ %.2f", reply.action.rawValue, question,
                             reply.intent ?? "-", reply.confidence))
            }
        }
        if !report.misses.isEmpty && misses > 0 {
            print("Misses (intent: example -> where it landed, score):")
            for miss in report.misses.prefix(misses) {
                print(String(format: "  %@: \"%@\" -> %@ %.2f", miss.intent, miss.example, miss.landedOn ?? "nothing", miss.score))
            }
        }
    }
}
