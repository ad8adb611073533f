/// Every threshold the matcher and the dialogue policy use, in one place.
/// Override any of them under `matching:` in `knowledge/_settings.yml`.
public struct MatchingConfig: Sendable, Equatable, Codable {
    /// Answer when the best intent scores at least this much…
    public var answerThreshold: Double = 0.21
    /// …and beats the runner-up by at least this margin; otherwise clarify.
    public var ambiguityMargin: Double = 0.05
    /// Below this score the bot says it did not understand (fallback). Options offered in a clarify score at least this.
    public var clarifyThreshold: Double = 0.19
    /// When the bot is not sure (the top intents too close, or the best below `answerThreshold`), it asks "Did you
    /// mean…?" only if the best intent scores at least this; otherwise it says it did not understand. A weak,
    /// split match is more often a question the knowledge base does not cover than one it does.
    public var askThreshold: Double = 0.30
    /// With a doubt model (a knowledge base with 8 or more intents and enough examples to learn from), the doubt
    /// decides: fall back when it puts the chance that the best intent is wrong (or that the question is not
    /// covered at all) at this or more, and answer below it (a close call in a message of a few words is still
    /// asked about). 1 turns the doubt model off, and the score thresholds above decide alone.
    public var doubtThreshold: Double = 0.52
    /// How many options a clarify question offers.
    public var maxOptions: Int = 3
    /// Candidates within this distance of the best one are offered when clarifying.
    public var optionWindow: Double = 0.10
    /// Weight of word pairs relative to single words.
    public var bigramWeight: Double = 0.4
    /// How much an intent's score comes from its single closest example; the rest comes from all its
    /// examples together (the intent's centroid), which rewards words typical of the intent.
    public var exampleWeight: Double = 0.3
    /// Weight of function words ("is", "my", "the") and pairs of them, relative to content words.
    public var functionWordWeight: Double = 0.7
    /// Share of the score from the trained intent classifier (0 turns it off).
    public var classifierWeight: Double = 0.4
    /// Softness of the classifier's probabilities: higher spreads them out.
    public var classifierTemperature: Double = 0.3
    /// Training passes over the examples.
    public var classifierEpochs: Int = 10
    /// How much a word that means the same or nearly (from WordNet, `WordRelations`) counts, for a word of the
    /// message that no example has, times the relation's own weight (0.25 to 1). 0 turns them off.
    public var relatedWordWeight: Double = 0.5

    public init() {}

    static let settingNames = [
        "answer_threshold", "ambiguity_margin", "clarify_threshold", "ask_threshold", "doubt_threshold", "option_window", "max_options", "bigram_weight",
        "example_weight", "function_word_weight", "classifier_weight", "classifier_temperature", "classifier_epochs",
        "related_word_weight",
    ]

    /// Sets one value by its settings name; returns a problem description when the name or value is wrong.
    mutating func set(_ name: String, to value: Double) -> String? {
        func fraction(_ apply: (inout MatchingConfig, Double) -> Void) -> String? {
            guard (0...1).contains(value) else { return "matching.\(name) must be between 0 and 1" }
            apply(&self, value)
            return nil
        }
        switch name {
        case "answer_threshold": return fraction { $0.answerThreshold = $1 }
        case "ambiguity_margin": return fraction { $0.ambiguityMargin = $1 }
        case "clarify_threshold": return fraction { $0.clarifyThreshold = $1 }
        case "ask_threshold": return fraction { $0.askThreshold = $1 }
        case "doubt_threshold": return fraction { $0.doubtThreshold = $1 }
        case "option_window": return fraction { $0.optionWindow = $1 }
        case "bigram_weight":
            guard value > 0 else { return "matching.bigram_weight must be above 0 and at most 1" }
            return fraction { $0.bigramWeight = $1 }
        case "example_weight": return fraction { $0.exampleWeight = $1 }
        case "function_word_weight":
            guard value > 0 else { return "matching.function_word_weight must be above 0 and at most 1" }
            return fraction { $0.functionWordWeight = $1 }
        case "classifier_weight": return fraction { $0.classifierWeight = $1 }
        case "related_word_weight": return fraction { $0.relatedWordWeight = $1 }
        case "classifier_temperature":
            guard value > 0, value <= 10 else { return "matching.classifier_temperature must be above 0 and at most 10" }
            classifierTemperature = value
            return nil
        case "classifier_epochs":
            guard value >= 1, value <= 100, value == value.rounded() else { return "matching.classifier_epochs must be a whole number from 1 to 100" }
            classifierEpochs = Int(value)
            return nil
        case "max_options":
            guard value >= 2, value <= 5, value == value.rounded() else { return "matching.max_options must be 2, 3, 4 or 5" }
            maxOptions = Int(value)
            return nil
        default:
            return "unknown setting matching.\(name). Use one of: \(Self.settingNames.joined(separator: ", "))."
        }
    }
}
