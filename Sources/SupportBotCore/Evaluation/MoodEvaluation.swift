/// Precision and recall of the mood detector on messages labelled angry (1) or not (0).
public struct MoodEvaluation: Sendable {
    public struct Miss: Sendable {
        public var text: String
        public var angry: Bool
        public var score: Double
        public var reasons: [MoodReason]
    }

    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public var trueNegatives = 0
    public var threshold: Double
    /// Messages the detector got wrong: false alarms and missed anger.
    public var misses: [Miss] = []

    public var total: Int { truePositives + falsePositives + falseNegatives + trueNegatives }
    public var precision: Double { Self.ratio(truePositives, truePositives + falsePositives) }
    public var recall: Double { Self.ratio(truePositives, truePositives + falseNegatives) }
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    public var accuracy: Double { Self.ratio(truePositives + trueNegatives, total) }

    private static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    /// What a labelled 1 means: the bot should say sorry (`upset`, from the apology threshold) or hand off (`angry`,
    /// from the mood threshold).
    public enum Level: String, Sendable, CaseIterable {
        case upset, angry
    }

    /// Scores every message on its own (a fresh conversation each) and compares with its label at `level`.
    public static func run(_ detector: MoodDetector, on examples: [LabelledText],
                           level: Level = .angry) throws -> MoodEvaluation {
        var result = MoodEvaluation(threshold: level == .upset ? detector.apologyThreshold : detector.threshold)
        for (index, example) in examples.enumerated() {
            guard let angry = Self.label(example.label) else {
                throw CSVError(description: "row \(index + 2): the angry column must be 0 or 1, not '\(example.label)'")
            }
            var state = MoodState()
            let reading = detector.read(example.text, state: &state)
            let flagged = level == .upset ? reading.isUpset : reading.isAngry
            switch (flagged, angry) {
            case (true, true): result.truePositives += 1
            case (true, false): result.falsePositives += 1
            case (false, true): result.falseNegatives += 1
            case (false, false): result.trueNegatives += 1
            }
            if flagged != angry {
                result.misses.append(Miss(text: example.text, angry: angry, score: reading.conversation,
                                          reasons: reading.reasons))
            }
        }
        return result
    }

    static func label(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "angry": return true
        case "0", "false", "no", "calm": return false
        default: return nil
        }
    }
}
