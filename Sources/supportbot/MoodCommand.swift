import ArgumentParser
import Foundation
import SupportBotCore

struct Mood: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score how angry or frustrated a message reads (0 to 1), with the reasons found.",
        discussion: """
            supportbot mood "this is a joke, where is my refund?!"
            printf 'first message\\nsecond message\\n' | supportbot mood      (one message per line)
            supportbot mood --eval my-messages.csv    (CSV with header text,angry; angry is 0 or 1)
            Lines from standard input are scored as one conversation, so repeated complaints add up.
            """)

    @Argument(help: "The message to score. Without it, messages are read from standard input, one per line.")
    var text: String?

    @Option(name: .long, help: "Print precision, recall and F1 on this CSV file (header: text,angry).")
    var eval: String?

    @Option(name: .long, help: "Angry at or above this score (default: handoff.mood_threshold in _settings.yml, or 0.5).")
    var threshold: Double?

    @Option(name: .long, help: "Folder with _settings.yml, for the threshold.")
    var knowledge: String = "knowledge"

    /// Which level `--eval` measures: the bot apologises from `upset`, hands off from `angry`.
    enum Level: String, ExpressibleByArgument, CaseIterable {
        case upset, angry
    }

    @Option(help: "With --eval: the level a labelled 1 means: upset (the bot apologises, at the apology threshold) or angry (it hands off, at the mood threshold).")
    var level: Level = .angry

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "With --eval: list every message the detector got wrong.")
    var misses = false

    @Option(name: .customLong("write-model"),
            help: ArgumentHelp("Train the learned model afresh and write its weights to this Swift file.",
                               visibility: .hidden))
    var writeModel: String?

    func validate() throws {
        if let threshold, !(threshold > 0 && threshold <= 1) {
            throw ValidationError("--threshold must be above 0 and at most 1.")
        }
        if eval != nil && text != nil { throw ValidationError("Give either a message or --eval FILE, not both.") }
        if eval == nil && level != .angry { throw ValidationError("--level goes with --eval FILE.") }
    }

    func run() throws {
        if let writeModel {
            do {
                try MoodDetector.freshModelSource().write(toFile: writeModel, atomically: true, encoding: .utf8)
            } catch {
                throw UserFacingError("Could not write \(writeModel): \(error.localizedDescription)")
            }
            return
        }
        let detector = MoodDetector(threshold: try resolvedThreshold())
        if let eval {
            // At the upset level a message counts as flagged from the apology threshold.
            try evaluate(file: eval, detector: level == .upset ? MoodDetector(threshold: detector.apologyThreshold)
                                                                 : detector)
        } else if let text {
            var state = MoodState()
            print(try format(text, detector.read(text, state: &state)))
        } else {
            var state = MoodState()
            while let line = readLine() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else { continue }
                print(try format(trimmed, detector.read(trimmed, state: &state)))
            }
        }
    }

    private func resolvedThreshold() throws -> Double {
        if let threshold { return threshold }
        let path = (knowledge as NSString).appendingPathComponent("_settings.yml")
        guard let yaml = try? String(contentsOfFile: path, encoding: .utf8) else { return MoodDetector.defaultThreshold }
        do {
            return try KnowledgeLoader.handoffSettings(settingsYAML: yaml).moodThreshold
        } catch let error as KnowledgeBaseError {
            throw UserFacingError(error.description)
        }
    }

    private func format(_ text: String, _ reading: MoodReading) throws -> String {
        if json {
            return try MoodJSON.encode(MoodJSON(text: text, reading: reading))
        }
        let verdict = reading.isAngry ? "angry" : (reading.isUpset ? "upset" : "calm")
        var line = String(format: "%.2f %@", reading.conversation, verdict)
        if reading.conversation != reading.message { line += String(format: " (this message %.2f)", reading.message) }
        line += "  " + text
        for reason in reading.reasons {
            line += String(format: "\n     %+.2f %@", reason.weight, reason.summary)
        }
        return line
    }

    private func evaluate(file: String, detector: MoodDetector) throws {
        guard let content = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw UserFacingError("Can't read \(file). Check the path; the file must be UTF-8 text.")
        }
        let report: MoodEvaluation
        do {
            let examples = try LabelledCSV.parse(content, file: file, labelColumn: "angry")
            guard !examples.isEmpty else { throw UserFacingError("\(file) has a header but no messages.") }
            report = try MoodEvaluation.run(detector, on: examples)
        } catch let error as CSVError {
            throw UserFacingError("\(file): \(error.description)")
        }
        if json {
            print(try MoodJSON.encode(MoodEvalJSON(report)))
            return
        }
        print("messages:   \(report.total) (\(report.truePositives + report.falseNegatives) labelled angry)")
        print(String(format: "threshold:  %.2f", report.threshold))
        print(String(format: "precision:  %.3f  (%d of %d flagged were angry)", report.precision, report.truePositives,
                     report.truePositives + report.falsePositives))
        print(String(format: "recall:     %.3f  (%d of %d angry were flagged)", report.recall, report.truePositives,
                     report.truePositives + report.falseNegatives))
        print(String(format: "F1:         %.3f", report.f1))
        print(String(format: "accuracy:   %.3f", report.accuracy))
        if misses {
            for miss in report.misses {
                let kind = miss.angry ? "missed anger" : "false alarm "
                let why = miss.reasons.map(\.summary).joined(separator: ", ")
                print(String(format: "%@ %.2f  %@", kind, miss.score, miss.text) + (why.isEmpty ? "" : "\n       " + why))
            }
        }
    }
}

private struct MoodJSON: Encodable {
    var text: String
    var message: Double
    var conversation: Double
    var angry: Bool
    var upset: Bool
    var reasons: [MoodReason]

    init(text: String, reading: MoodReading) {
        self.text = text
        message = reading.message
        conversation = reading.conversation
        angry = reading.isAngry
        upset = reading.isUpset
        reasons = reading.reasons
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

private struct MoodEvalJSON: Encodable {
    enum CodingKeys: String, CodingKey {
        case messages, threshold, precision, recall, f1, accuracy
        case truePositives = "true_positives", falsePositives = "false_positives"
        case falseNegatives = "false_negatives", trueNegatives = "true_negatives"
    }

    var messages: Int
    var threshold: Double
    var precision: Double
    var recall: Double
    var f1: Double
    var accuracy: Double
    var truePositives: Int
    var falsePositives: Int
    var falseNegatives: Int
    var trueNegatives: Int

    init(_ report: MoodEvaluation) {
        messages = report.total
        threshold = report.threshold
        precision = report.precision
        recall = report.recall
        f1 = report.f1
        accuracy = report.accuracy
        truePositives = report.truePositives
        falsePositives = report.falsePositives
        falseNegatives = report.falseNegatives
        trueNegatives = report.trueNegatives
    }
}
