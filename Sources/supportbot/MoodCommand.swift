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

    @OptionGroup(title: "Knowledge base (its threshold, and its questions the learned model takes as calm)")
    var knowledge: KnowledgeOptions

    @Option(help: "With --eval: the level a labelled 1 means: upset (the bot apologises, at the apology threshold) or angry (it hands off, at the mood threshold).")
    var level: MoodEvaluation.Level = .angry

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "With --eval: list every message the detector got wrong.")
    var misses = false

    @Option(name: .customLong("write-model"),
            help: ArgumentHelp("Train the learned models afresh and write their weights into this folder (MoodModelWeights.swift, MoodSupportModelWeights.swift).",
                               visibility: .hidden))
    var writeModel: String?

    @Option(name: .customLong("general-data"),
            help: ArgumentHelp("With --write-model: the labelled general messages (CSV, header text,angry).",
                               visibility: .hidden))
    var generalData: String = "../shared/datasets/goemotions/train.csv"

    @Option(name: .customLong("calm-data"),
            help: ArgumentHelp("With --write-model: customer questions that are all calm (CSV with a text column).",
                               visibility: .hidden))
    var calmData: String = "../shared/datasets/banking77/train.csv"

    @Option(name: .customLong("scores"),
            help: ArgumentHelp("With --eval: write each message's label, score, rule score and learned probability to this TSV file.",
                               visibility: .hidden))
    var scores: String?

    func validate() throws {
        if let threshold, !(threshold > 0 && threshold <= 1) {
            throw ValidationError("--threshold must be above 0 and at most 1.")
        }
        if eval != nil && text != nil { throw ValidationError("Give either a message or --eval FILE, not both.") }
        if eval == nil && level != .angry { throw ValidationError("--level goes with --eval FILE.") }
    }

    func run() throws {
        if let writeModel {
            let general = try labelled(file: generalData).enumerated().map { index, row -> (text: String, angry: Bool) in
                guard row.label == "0" || row.label == "1" else {
                    throw UserFacingError("\(generalData): row \(index + 2): angry must be 0 or 1, not '\(row.label)'.")
                }
                return (row.text, row.label == "1")
            }
            let calm = try labelled(file: calmData, labelColumn: "label").map { (text: $0.text, angry: false) }
            let source = "GoEmotions' training split (\(generalData)) and BANKING77's (\(calmData), all calm)"
            let folder = URL(fileURLWithPath: writeModel)
            let sources = MoodDetector.freshModelSources(generalExamples: general + calm, source: source)
            for (name, text) in [("MoodModelWeights.swift", sources.general),
                                 ("MoodSupportModelWeights.swift", sources.support)] {
                let file = folder.appendingPathComponent(name).path
                do {
                    try text.write(toFile: file, atomically: true, encoding: .utf8)
                } catch {
                    throw UserFacingError("Could not write \(file): \(error.localizedDescription)")
                }
            }
            return
        }
        let detector = try shopDetector()
        if let eval {
            try evaluate(file: eval, detector: detector)
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

    /// The detector the server would use for the knowledge base in --intents and --knowledge: its threshold, and
    /// the learned model adapted to its questions. Without an intents folder, the general model, with the threshold
    /// of --threshold, or of the _settings.yml in --knowledge, or the default.
    private func shopDetector() throws -> MoodDetector {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: knowledge.intents, isDirectory: &isFolder), isFolder.boolValue else {
            return MoodDetector(threshold: try threshold ?? settingsThreshold())
        }
        let knowledgeBase = try knowledge.loadKnowledgeBase()
        return MoodDetector(threshold: threshold ?? knowledgeBase.handoff.moodThreshold, servingShopOf: knowledgeBase)
    }

    /// handoff.mood_threshold in the _settings.yml of --knowledge, if there is one.
    private func settingsThreshold() throws -> Double {
        let path = (knowledge.knowledge as NSString).appendingPathComponent("_settings.yml")
        guard let yaml = try? String(contentsOfFile: path, encoding: .utf8) else { return MoodDetector.defaultThreshold }
        do {
            return try KnowledgeLoader.handoffSettings(settingsYAML: yaml).moodThreshold
        } catch let error as KnowledgeBaseError {
            throw UserFacingError("\(path): \(error.description)")
        }
    }

    private func labelled(file: String, labelColumn: String = "angry") throws -> [LabelledText] {
        guard let content = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw UserFacingError("Can't read \(file). Check the path; the file must be UTF-8 text.")
        }
        do {
            let examples = try LabelledCSV.parse(content, file: file, labelColumn: labelColumn)
            guard !examples.isEmpty else { throw UserFacingError("\(file) has a header but no messages.") }
            return examples
        } catch let error as CSVError {
            throw UserFacingError("\(file): \(error.description)")
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
        let examples = try labelled(file: file)
        let report: MoodEvaluation
        do {
            report = try MoodEvaluation.run(detector, on: examples, level: level)
        } catch let error as CSVError {
            throw UserFacingError("\(file): \(error.description)")
        }
        if let scores {
            var lines = ["label\tscore\trules\tlearned"]
            for example in examples {
                var state = MoodState()
                let reading = detector.read(example.text, state: &state)
                lines.append([example.label, String(reading.message), String(detector.ruleScore(example.text)),
                              String(detector.learnedProbability(example.text))].joined(separator: "\t"))
            }
            do {
                try (lines.joined(separator: "\n") + "\n").write(toFile: scores, atomically: true, encoding: .utf8)
            } catch {
                throw UserFacingError("Could not write \(scores): \(error.localizedDescription)")
            }
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

/// `--level upset|angry`.
extension MoodEvaluation.Level: ExpressibleByArgument {}
