import ArgumentParser
import Foundation
import SupportBotCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure matching: on a labelled data set (--train/--test), or on the knowledge base itself.",
        discussion: """
            With --train and --test (CSV files with a header text,label), the engine is built from the training rows,
            one intent per label, and every test row goes through the same decisions the server makes. Test rows
            whose label is not a training label (or is 'oos') should fall back.
            Without them, every example of the knowledge base is routed with itself left out.
            """)

    @Option(help: ArgumentHelp("A folder of conversation files (YAML, the `kb test` shape with `expect:` per turn) to run against the knowledge base, scored by turns and whole conversations.", valueName: "folder"))
    var conversations: String?

    @Option(help: "Training CSV (text,label) to build the engine from.")
    var train: String?

    @Option(help: "Test CSV (text,label) to measure on.")
    var test: String?

    @Option(help: "Leave this many training labels out (picked with --seed), so their test rows are out of scope.")
    var holdout: Int = 0

    @Option(name: .customLong("per-intent"),
            help: ArgumentHelp("Train on at most this many rows per label, picked with --seed: how the engine does with few examples.",
                               valueName: "n"))
    var perIntent: Int?

    @Option(help: "Seed for --holdout and --per-intent.")
    var seed: UInt64 = 1

    @Flag(help: "Always answer the top intent (no clarify, no fallback): pure classification accuracy.")
    var noFallback = false

    @OptionGroup var knowledge: KnowledgeOptions

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "How many misses to list.")
    var misses: Int = 20

    @Option(name: .customLong("out-of-scope"),
            help: "A text file of questions the bot should NOT answer, one per line; reports how many fall back.")
    var outOfScope: String?

    @Option(help: "Write every scored message (examples, out-of-scope questions or test rows) as tab-separated rows to this file.")
    var scores: String?

    func validate() throws {
        if conversations != nil && (train != nil || test != nil || outOfScope != nil) {
            throw ValidationError("--conversations runs on the knowledge base; leave out --train, --test and --out-of-scope.")
        }
        if (train == nil) != (test == nil) { throw ValidationError("Pass both --train and --test, or neither.") }
        if holdout < 0 { throw ValidationError("--holdout must be 0 or more.") }
        if train != nil && outOfScope != nil {
            throw ValidationError("--out-of-scope is for the knowledge base; with --train and --test, out-of-scope rows come from the test file.")
        }
        if let perIntent, perIntent < 1 { throw ValidationError("--per-intent must be 1 or more.") }
        if train == nil && (holdout > 0 || noFallback || perIntent != nil) {
            throw ValidationError("--holdout, --per-intent and --no-fallback need --train and --test.")
        }
    }

    func run() throws {
        if let conversations {
            try runConversations(folder: conversations)
            return
        }
        if let train, let test {
            try runDataset(train: train, test: test)
            return
        }
        let engine = try knowledge.loadEngine()
        let report = LeaveOneOut.evaluate(engine)
        // Each out-of-scope question is read and answered once; the report and --scores share the replies.
        var outOfScopeReplies: [(question: String, reply: BotReply)] = []
        if let outOfScope {
            guard let text = try? String(contentsOfFile: outOfScope, encoding: .utf8) else {
                throw UserFacingError("Can't read \(outOfScope). Pass a UTF-8 text file with one question per line.")
            }
            for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                var context = DialogueContext()
                outOfScopeReplies.append((String(line), engine.reply(to: String(line), context: &context)))
            }
        }
        let outOfScopeCount = outOfScopeReplies.count
        let wronglyAnswered = outOfScopeReplies.filter { $0.reply.action != .fallback }
        if let scores {
            var tsv = "set\tintent\tlanded_on\tscore\tlead\ttext\n"
            for row in report.rows {
                tsv += "example\t\(row.intent)\t\(row.landedOn ?? "")\t\(row.score)\t\(row.lead)\t\(row.example)\n"
            }
            for (question, reply) in outOfScopeReplies {
                let match = reply.match ?? MatchResult(tokens: [], candidates: [])
                tsv += "out_of_scope\t\t\(match.best?.intent ?? "")\t\(match.best?.score ?? 0)\t\(match.lead)\t\(question)\n"
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
            try JSONOutput.print(object)
            return
        }
        print(String(format: "Held-out examples: %d of %d land on their own intent (%.1f%%); %.1f%% are answered confidently.",
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


    private func runConversations(folder: String) throws {
        let fileManager = FileManager.default
        var isFolder: ObjCBool = false
        guard fileManager.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw UserFacingError("There is no folder \(folder). Pass --conversations with a folder of .yml conversation files.")
        }
        let files = ((try? fileManager.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted()
        guard !files.isEmpty else { throw UserFacingError("\(folder) has no .yml conversation files.") }
        let engine = try knowledge.loadEngine()
        var scripted: [ScriptedConversation] = []
        var issues: [KnowledgeIssue] = []
        for file in files {
            let path = (folder as NSString).appendingPathComponent(file)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                issues.append(KnowledgeIssue(SourceLocation(file: path), "can't be read as UTF-8 text"))
                continue
            }
            let parsed = ConversationEvaluation.parse(text, file: path)
            scripted += parsed.conversations
            issues += parsed.issues
        }
        issues += ConversationEvaluation.unknownTopics(in: scripted, knowledgeBase: engine.knowledgeBase)
        guard issues.isEmpty else {
            throw UserFacingError("The conversation files have \(issues.count) problem\(issues.count == 1 ? "" : "s"):\n"
                                  + issues.map { "  \($0)" }.joined(separator: "\n"))
        }
        let report = ConversationEvaluation.run(scripted, engine: engine)
        let total = report.conversations.count
        func share(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }
        if json {
            var object: [String: Any] = [
                "conversations": total, "turns": report.turnCount, "turns_right": report.turnsRight,
                "turns_right_rate": share(report.turnsRight, report.turnCount),
            ]
            for outcome in ConversationReport.Outcome.allCases { object[outcome.rawValue] = report.count(outcome) }
            try JSONOutput.print(object)
            return
        }
        print(String(format: "Turns: %d of %d right (%.1f%%).", report.turnsRight, report.turnCount,
                     share(report.turnsRight, report.turnCount) * 100))
        print("Conversations: \(total)")
        let labels: [(ConversationReport.Outcome, String)] = [
            (.resolved, "resolved by the bot, every turn right"), (.bumpy, "ended well, with a wrong turn on the way"),
            (.handedOff, "handed to a person when it was wanted"), (.wrongHandoff, "handed to a person needlessly"),
            (.missedHandoff, "not handed to a person when it was wanted"),
            (.offeredPerson, "the last turn went wrong, and offered a person"),
            (.deadEnd, "dead ends (the last turn went wrong, no way on)"),
        ]
        for (outcome, label) in labels {
            let count = report.count(outcome)
            print(String(format: "  %4d  %5.1f%%  %@", count, share(count, total) * 100, label))
        }
        let wrong = report.conversations.filter { $0.outcome != .resolved && $0.outcome != .handedOff }
        guard misses > 0, !wrong.isEmpty else { return }
        print("Conversations that went wrong (first \(min(misses, wrong.count)) of \(wrong.count)):")
        for result in wrong.prefix(misses) {
            print("  \(result.conversation.location): \"\(result.conversation.name)\" → \(result.outcome.rawValue)")
            for turn in result.turns {
                let got = (turn.action == "answer" ? "answer \(turn.intent ?? "-")"
                    : turn.action == "handoff" ? "handoff (\(turn.handoffReason ?? "-"))" : turn.action)
                    + (turn.offeredPerson ? ", offering a person" : "")
                print("    \(turn.right ? "ok " : "-- ") \"\(turn.input)\": expected \(turn.expected), got \(got)")
            }
        }
    }

    private func runDataset(train trainPath: String, test testPath: String) throws {
        var trainRows = try LabelledFile.read(trainPath)
        if let perIntent { trainRows = DatasetEvaluation.sample(trainRows, perLabel: perIntent, seed: seed) }
        let testRows = try LabelledFile.read(testPath)
        // The same thresholds the server uses: the `matching:` part of the knowledge base's settings, if any.
        var matching = MatchingConfig()
        let settingsPath = (knowledge.knowledge as NSString).appendingPathComponent("_settings.yml")
        if let settings = try? String(contentsOfFile: settingsPath, encoding: .utf8) {
            do {
                matching = try KnowledgeLoader.matchingConfig(settingsYAML: settings)
            } catch let error as KnowledgeBaseError {
                throw UserFacingError(error.description)
            }
        }
        let report = DatasetEvaluation.run(train: trainRows, test: testRows, holdout: holdout, seed: seed,
                                           alwaysAnswer: noFallback, matching: matching)
        if let scores {
            var tsv = "set\tintent\tlanded_on\tscore\tlead\taction\tprobability\trunner_up_probability\tclosest\t"
                + "similarity\tdoubt\tmicroseconds\ttext\n"
            for row in report.rows {
                tsv += "\(row.inScope ? "in_scope" : "out_of_scope")\t\(row.label)\t\(row.best ?? "")\t\(row.score)\t"
                    + "\(row.lead)\t\(row.action.rawValue)\t\(row.probability)\t\(row.runnerUpProbability)\t"
                    + "\(row.closest)\t\(row.similarity)\t\(row.doubt)\t\(row.microseconds)\t\(row.text)\n"
            }
            try tsv.write(toFile: scores, atomically: true, encoding: .utf8)
        }
        if json {
            var object: [String: Any] = [
                "train_examples": report.trainExamples, "intents": report.intents, "test_rows": report.testRows,
                "in_scope_rows": report.inScopeRows, "out_of_scope_rows": report.outOfScopeRows,
                "held_out": report.heldOut, "accuracy": report.accuracy,
                "accuracy_with_clarify_first": report.accuracyWithClarifyFirst,
                "in_scope_accuracy": report.inScopeAccuracy, "oos_recall": report.outOfScopeRecall,
                "oos_precision": report.outOfScopePrecision, "clarify_rate": report.clarifyRate,
                "clarify_hit_rate": report.clarifyHitRate, "fallback_rate": report.fallbackRate,
                "build_ms": report.buildMilliseconds, "p50_us": report.p50Microseconds,
                "p99_us": report.p99Microseconds, "max_us": report.maxMicroseconds,
                "no_fallback": noFallback, "per_intent": perIntent.map { $0 as Any } ?? NSNull(), "seed": seed,
            ]
            object["confused_pairs"] = report.confusedPairs.map { ["expected": $0.expected, "got": $0.got, "count": $0.count] }
            object["worst_intents"] = report.worstIntents.map { ["intent": $0.intent, "accuracy": $0.accuracy, "count": $0.count] }
            try JSONOutput.print(object)
            return
        }
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        print("Engine: \(report.intents) intents from \(report.trainExamples) examples, built in "
            + String(format: "%.0f ms", report.buildMilliseconds)
            + (perIntent.map { " (at most \($0) per label, seed \(seed))" } ?? "")
            + (report.heldOut.isEmpty ? "" : "; held out \(report.heldOut.count) labels: \(report.heldOut.joined(separator: ", "))"))
        print("Test: \(report.testRows) rows, \(report.inScopeRows) in scope, \(report.outOfScopeRows) out of scope"
            + (noFallback ? " (always answering the top intent)" : ""))
        print("accuracy              \(percent(report.accuracy))   (clarify with the right first option counted: \(percent(report.accuracyWithClarifyFirst)))")
        print("in-scope accuracy     \(percent(report.inScopeAccuracy))")
        if report.outOfScopeRows > 0 {
            print("out-of-scope recall   \(percent(report.outOfScopeRecall))")
        }
        print("out-of-scope precision \(percent(report.outOfScopePrecision))")
        print("clarify rate          \(percent(report.clarifyRate))   (right intent among the options: \(percent(report.clarifyHitRate)))")
        print("fallback rate         \(percent(report.fallbackRate))")
        print(String(format: "time per message      p50 %.0f µs, p99 %.0f µs, max %.0f µs", report.p50Microseconds,
                     report.p99Microseconds, report.maxMicroseconds))
        if !report.confusedPairs.isEmpty {
            print("Most confused (expected -> got, count):")
            for pair in report.confusedPairs { print("  \(pair.expected) -> \(pair.got)  \(pair.count)") }
        }
        if !report.worstIntents.isEmpty {
            print("Worst intents (in-scope accuracy):")
            for intent in report.worstIntents { print("  \(intent.intent)  \(percent(intent.accuracy)) of \(intent.count)") }
        }
    }
}

/// Labelled CSV files named on the command line.
enum LabelledFile {
    static func read(_ path: String) throws -> [LabelledText] {
        guard let content = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw UserFacingError("Can't read \(path). Pass a UTF-8 CSV file with a header text,label.")
        }
        do {
            return try LabelledCSV.parse(content, file: path)
        } catch let error as CSVError {
            throw UserFacingError(error.description)
        }
    }
}
