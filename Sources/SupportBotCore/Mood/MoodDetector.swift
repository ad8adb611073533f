import Foundation
import SupportBotData

/// Scores anger and frustration in customer messages from words, negation, profanity, threats to leave,
/// shouting, punctuation and repetition across turns. Rule-based, deterministic and explainable: every point of
/// the score comes with a reason. Tells anger from worry or sadness ("I'm worried my parcel is lost" is calm).
public struct MoodDetector: Sendable {
    /// A conversation at or above this score is angry: the bot hands it to a person.
    public var threshold: Double
    /// At or above this the bot apologises first ("I'm sorry this happened.").
    public var apologyThreshold: Double

    public static let defaultThreshold = 0.5

    /// The learned models (general and support), adapted to a shop's questions or not: adapted at first use, so a
    /// process that never reads a message of a few words (`supportbot ask hi`) does not pay for it.
    private let learned: LearnedMoodModels
    var models: MoodModels { learned.models }

    /// A detector with the general learned model, for no shop in particular.
    public init(threshold: Double = MoodDetector.defaultThreshold, apologyThreshold: Double? = nil) {
        self.init(threshold: threshold, apologyThreshold: apologyThreshold,
                  learned: LearnedMoodModels { [] })
    }

    /// A detector whose learned models are taught `shopQuestions` (see `shopQuestions(of:)`) as calm: the
    /// questions this shop's customers ask. Adapting takes a moment, at the first message that needs the models; the
    /// result is kept for the process, so a knowledge base published again with the same examples does not adapt
    /// again. `prepareModels()` does it now.
    public init(threshold: Double = MoodDetector.defaultThreshold, apologyThreshold: Double? = nil,
                shopQuestions: [String]) {
        self.init(threshold: threshold, apologyThreshold: apologyThreshold,
                  learned: LearnedMoodModels { shopQuestions })
    }

    /// A detector for the shop of `knowledgeBase`: its learned models are taught `shopQuestions(of:)` at first use.
    public init(threshold: Double = MoodDetector.defaultThreshold, apologyThreshold: Double? = nil,
                servingShopOf knowledgeBase: KnowledgeBase) {
        self.init(threshold: threshold, apologyThreshold: apologyThreshold,
                  learned: LearnedMoodModels { MoodDetector.shopQuestions(of: knowledgeBase) })
    }

    private init(threshold: Double, apologyThreshold: Double?, learned: LearnedMoodModels) {
        self.threshold = threshold
        self.apologyThreshold = apologyThreshold ?? min(threshold, 0.3)
        self.learned = learned
    }

    /// The example questions of a knowledge base that teach the learned model what calm reads like in this shop:
    /// every example of a topic that is not a handoff topic, unless the rules alone already hear it as upset
    /// (a shop's "complaint" topic has examples like "this is not good enough").
    public static func shopQuestions(of knowledgeBase: KnowledgeBase) -> [String] {
        let rules = MoodDetector()
        var seen = Set<String>()
        // Masked as a customer's message is before the models read it.
        return knowledgeBase.intents.filter { !$0.handoff }.flatMap(\.examples).map(PIIMasker.mask).filter { example in
            seen.insert(example).inserted && rules.ruleScore(example) < rules.apologyThreshold
        }
    }

    /// Adapts the learned models now, if they are not yet (a server does this before its first customer).
    public func prepareModels() { _ = learned.models }

    /// Reads the general model's weights now (once per process, on first use), so the first customer does not wait
    /// for them. Returns how many labelled support chats it learned from.
    @discardableResult
    public static func prepare() -> Int {
        _ = MoodModel.general
        _ = MoodModel.support
        return MoodTrainingData.examples.count
    }

    /// Whether the shipped weights were learned with the training data compiled in (if not, every process trains
    /// the model at first use, from the support chats alone: write them again with `scripts/generate-mood-model.sh`).
    public static var shipsCurrentModel: Bool { MoodModel.shipped != nil && MoodModel.shippedSupport != nil }

    /// Trains both learned models afresh: the general one on `generalExamples` (GoEmotions' and BANKING77's
    /// training splits, from `source`) and the support chats, the support one on the support chats alone. Returns
    /// the Swift sources of `MoodModelWeights.swift` and `MoodSupportModelWeights.swift`.
    public static func freshModelSources(generalExamples: [(text: String, angry: Bool)], source: String)
        -> (general: String, support: String) {
        (MoodModel.trainGeneral(on: generalExamples).generalWeightsSource(generalExamples: generalExamples,
                                                                          source: source),
         MoodModel(examples: MoodTrainingData.examples).supportWeightsSource())
    }

    /// Scores one message on its own.
    public func score(_ text: String) -> MessageMood { score(text, words: TextNormalizer.tokens(text)) }

    /// How likely the learned model alone thinks the message is upset (0 to 1), whatever the rules say.
    public func learnedProbability(_ text: String) -> Double { models.general.read(PIIMasker.mask(text)).probability }

    /// The score from the word rules alone, without the learned model.
    public func ruleScore(_ text: String) -> Double {
        score(PIIMasker.mask(text), words: TextNormalizer.tokens(text), learned: false).score
    }

    /// `words` are `TextNormalizer.tokens(text)`, when the caller has them already.
    func score(_ text: String, words: [String], learned useModel: Bool = true) -> MessageMood {
        let wordSet = Set(words)
        var (reasons, calming, used, calmPhrase) = cues(in: words)
        let trouble = !wordSet.isDisjoint(with: MoodLexicon.trouble)
        // "cheers, thanks a lot for your help" is thanks; "thanks a lot, it's lost again" is not.
        if !trouble {
            reasons.removeAll { $0.kind == .sarcasm && MoodLexicon.thanksUnlessTrouble.contains($0.evidence) }
        }
        let hasPraise = !wordSet.isDisjoint(with: MoodLexicon.praise)
        if hasPraise && trouble && !reasons.contains(where: { $0.kind == .sarcasm }) {
            reasons.append(MoodReason(kind: .sarcasm, evidence: Self.praiseNextToComplaint, weight: 0.5))
        }
        // "great service, NOT" — but not a question like "are the boots good or not?".
        if let last = words.last, last == "not", words.count >= 3, words[words.count - 2] != "or", !text.contains("?"),
           words.dropLast().suffix(3).contains(where: { MoodLexicon.praise.contains($0) || $0 == "good" }) {
            reasons.append(MoodReason(kind: .sarcasm, evidence: "… not", weight: 0.55))
        }
        reasons += emoji(text)
        // "[NAME]", "[email]": a placeholder for masked text, not shouting.
        reasons += typography(text.contains("[") ? Self.withoutPlaceholders(text) : text, demanding: trouble || !wordSet.isDisjoint(with: MoodLexicon.demanding)
                              || reasons.contains { $0.weight >= 0.3 })

        var calm = 1.0
        for reason in reasons { calm *= 1 - reason.weight }
        var score = 1 - calm
        func soften(_ factor: Double, _ kind: MoodReason.Kind, _ evidence: String) {
            guard score > 0 else { return }
            let before = score
            score *= factor
            reasons.append(MoodReason(kind: kind, evidence: evidence, weight: Self.rounded(score - before)))
        }

        // Words inside a cue ("not good enough") are not friendly.
        let friendly = words.indices.filter { !used.contains($0) && MoodLexicon.positive.contains(words[$0]) }
            .map { words[$0] } + MoodLexicon.friendlyEmoji(in: text)
        let sarcastic = reasons.contains { $0.kind == .sarcasm }
        let strongest = reasons.map(\.weight).max() ?? 0
        for cue in calming { soften(1 + cue.weight, .calming, cue.evidence) }
        if !friendly.isEmpty && !trouble && !sarcastic {
            // "LOVE it!!!", "it's ridiculous how cosy this is": loud but happy.
            soften(0.3, .friendly, friendly.prefix(3).joined(separator: " "))
        } else if strongest < 0.5, let word = words.first(where: { MoodLexicon.worry.contains($0) }) {
            // Worry or sadness without a strong anger cue: upset, but not at us.
            soften(0.6, .worry, word)
        }
        if !trouble, let question = MoodLexicon.shoppingQuestion(words) {
            // "sick of plastic, do you have bamboo storage?": a question about the shop, not a complaint.
            soften(0.5, .question, question)
        }
        // The learned models hear what the rules only half see. They speak only on messages of a few words.
        // - When an anger cue fired and the support model is very sure, it can raise the score as far as a handoff
        //   ("I'm not going to ask again nicely.").
        // - The general model alone (a plain-worded complaint, "so I just lose £60 then?"), when no calm cue fired,
        //   can only make the bot say sorry: from `upsetProbability` the score is between 0.3 and 0.45, and always
        //   under the handoff threshold (complaints that keep coming can still add up to one, as any others do).
        // - When the general model hears no upset at all, an upset-but-not-angry rule score from words that are
        //   often just emphasis (swearing, capitals, insults, "hate", "still") is taken down to mild ("damn these
        //   towels are thick"). Cues aimed at the shop and strong ones (`isPointed`) stand whatever it thinks.
        let calmCue = reasons.contains { $0.weight < 0 } || calmPhrase
        if useModel && words.count >= Self.modelMinimumWords {
            let angerCue = reasons.contains { $0.weight > 0 }
            let support = angerCue ? models.support.read(text, explainingFrom: Self.modelMinimumProbability)
                                   : (probability: 0, words: [])
            let general = models.general.read(text, explainingFrom: Self.upsetProbability)
            var fromModel = 0.0
            var heard = general.words
            if support.probability >= Self.modelMinimumProbability {
                fromModel = Self.modelShare * support.probability
                heard = support.words
            } else if !calmCue && general.probability >= Self.upsetProbability {
                // Never as far as this detector's handoff threshold, whatever the shop set it to.
                let upset = 0.3 + 0.15 * (general.probability - Self.upsetProbability) / (1 - Self.upsetProbability)
                let ceiling = threshold - Self.belowThreshold
                if ceiling + 1e-9 >= apologyThreshold { fromModel = min(upset, ceiling) }
            }
            if fromModel > score {
                let evidence = heard.isEmpty ? "the whole message" : heard.joined(separator: ", ")
                reasons.append(MoodReason(kind: .learned, evidence: evidence,
                                          weight: Self.rounded(fromModel - max(0, score))))
                score = fromModel
            } else if general.probability < Self.calmProbability && score > Self.mildScore
                        && score < min(threshold, Self.standsAnyway) && !reasons.contains(where: Self.isPointed) {
                reasons.append(MoodReason(kind: .learnedCalm, evidence: "the whole message",
                                          weight: Self.rounded(Self.mildScore - score)))
                score = Self.mildScore
            }
        }
        return MessageMood(score: Self.rounded(max(0, score)), reasons: reasons)
    }

    /// How far the support model can raise a message's score next to an anger cue (its probability times this)…
    static let modelShare = 0.9
    /// …when it is at least this sure.
    static let modelMinimumProbability = 0.8
    /// Alone, it makes a message upset from this probability. This and `calmProbability` were chosen on GoEmotions'
    /// dev split, with BANKING77's training questions (all calm) for false alarms.
    static let upsetProbability = 0.8
    /// Below this probability the general model takes a middling rule score (under `standsAnyway` and the handoff
    /// threshold, so the message alone would not hand off anyway) down to `mildScore`.
    static let calmProbability = 0.4
    /// Cues aimed at the shop (threats, asking for a manager, blame, sarcastic phrases), strong anger words ("not
    /// happy", "furious") and having to repeat ("third time"): the learned model does not take these down. Swearing,
    /// insult words ("stupid"), milder anger words ("hate") and praise next to a complaint are as often about
    /// something else, or just emphasis.
    static func isPointed(_ reason: MoodReason) -> Bool {
        switch reason.kind {
        case .threat, .escalation, .blame: true
        case .sarcasm: reason.evidence != praiseNextToComplaint
        case .angerWord: reason.weight >= 0.45
        case .repetition: reason.weight >= 0.5
        default: false
        }
    }

    static let praiseNextToComplaint = "praise next to a complaint"
    /// The general model takes down only scores under this (and under the handoff threshold): a shop with a lenient
    /// threshold still gets an apology for "CAN I GET THE DAMN BLUE TEAPOT IN A LARGER SIZE".
    static let standsAnyway = 0.5
    /// How far under the handoff threshold the general model alone can take a message.
    static let belowThreshold = 0.05
    static let mildScore = 0.25
    /// It speaks only on messages of at least this many words.
    static let modelMinimumWords = 4

    /// Scores a message in its conversation and moves the conversation's mood on.
    public func read(_ text: String, state: inout MoodState) -> MoodReading {
        read(text, words: TextNormalizer.tokens(text), state: &state)
    }

    func read(_ text: String, words: [String], state: inout MoodState) -> MoodReading {
        // Evidence quotes the message (shouted words): never an e-mail address or a number to be masked.
        let mood = score(PIIMasker.mask(text), words: words)
        var reasons = mood.reasons
        var message = mood.score

        let hash = Self.fingerprint(words)
        // Saying the same complaint again is frustration; saying "thank you" twice is not.
        if !hash.isEmpty && message > 0 && state.recentHashes.contains(hash) {
            reasons.append(MoodReason(kind: .repeatedMessage, evidence: "sent the same message again", weight: 0.3))
            message = 1 - (1 - message) * 0.7
        }
        // Complaints that keep coming (or get stronger) push the conversation up even when each is mild.
        let earlierComplaints = state.recent.suffix(3).filter { $0 >= 0.2 }.count
        var conversation = max(message, 0.6 * state.conversation + 0.6 * message)
        if message >= 0.2 && earlierComplaints >= 2 {
            reasons.append(MoodReason(kind: .risingComplaints, evidence: "\(earlierComplaints + 1) complaints in a row",
                                      weight: 0.3))
            conversation = 1 - (1 - conversation) * 0.7
        }
        conversation = Self.rounded(min(1, conversation))
        message = Self.rounded(message)

        state.recent = Array((state.recent + [message]).suffix(5))
        state.conversation = conversation
        if !hash.isEmpty { state.recentHashes = Array((state.recentHashes + [hash]).suffix(3)) }
        return MoodReading(message: message, conversation: conversation, reasons: reasons,
                           isAngry: conversation >= threshold,
                           isUpset: message >= apologyThreshold || conversation >= threshold)
    }

    // MARK: Cues

    /// Word cues, longest phrase first, each word used once; a negation just before cancels anger words.
    private func cues(in words: [String]) -> (cues: [MoodReason], calming: [MoodReason], used: Set<Int>,
                                              calmPhrase: Bool) {
        var reasons: [MoodReason] = []
        var calming: [MoodReason] = []
        var used = Set<Int>()
        var calmPhrase = false
        var i = 0
        while i < words.count {
            guard let lengths = MoodLexicon.cueLengths[words[i]] else {
                i += 1
                continue
            }
            var matched = false
            for length in lengths where length <= words.count - i {  // longest first
                let phrase = Array(words[i..<(i + length)])
                guard let entry = MoodLexicon.cues[phrase] else { continue }
                matched = true
                // A negation just before turns a cue around ("not angry"); one that belongs to an earlier cue
                // ("never arrived. insulting") does not.
                let negated = MoodLexicon.negatable.contains(entry.kind)
                    && (max(0, i - 2)..<i).contains { !used.contains($0) && MoodLexicon.negations.contains(words[$0]) }
                used.formUnion(i..<(i + length))
                if entry.weight == 0 { calmPhrase = true }
                if entry.weight < 0 {
                    calming.append(MoodReason(kind: .calming, evidence: phrase.joined(separator: " "),
                                              weight: entry.weight))
                } else if entry.weight > 0 && !negated {
                    var evidence = phrase.joined(separator: " ")
                    var weight = entry.weight
                    // "really not happy", "not happy at all": stronger.
                    if let before = i > 0 ? words[i - 1] : nil, MoodLexicon.intensifiers.contains(before) {
                        evidence = before + " " + evidence
                        weight += 0.1
                    } else if words.count >= i + length + 2, words[i + length] == "at", words[i + length + 1] == "all" {
                        evidence += " at all"
                        weight += 0.1
                    }
                    if let index = reasons.firstIndex(where: { $0.kind == entry.kind && $0.evidence == evidence }) {
                        reasons[index].weight = min(0.9, reasons[index].weight + 0.1)
                    } else {
                        reasons.append(MoodReason(kind: entry.kind, evidence: evidence, weight: weight))
                    }
                }
                i += length
                break
            }
            if !matched { i += 1 }
        }
        return (reasons, calming, used, calmPhrase)
    }

    /// Angry and eye-rolling emoji.
    private func emoji(_ text: String) -> [MoodReason] {
        var reasons: [MoodReason] = []
        if MoodLexicon.emojiAreNonASCII && text.isPlainASCII { return reasons }
        for character in text {
            if let weight = MoodLexicon.angryEmoji[character], !reasons.contains(where: { $0.evidence == String(character) }) {
                reasons.append(MoodReason(kind: .emoji, evidence: String(character), weight: weight))
            }
        }
        return reasons
    }

    /// Shouting (whole words in capitals) and runs of "!" and "?". Capitals count for more when the message
    /// complains or demands; "HI, IS THE BLUE JUG IN STOCK" is someone with caps lock on.
    private func typography(_ text: String, demanding: Bool) -> [MoodReason] {
        var reasons: [MoodReason] = []
        let (letters, upper, shouted, runs) = text.isPlainASCII
            ? Self.asciiTypography(text) : Self.unicodeTypography(text)
        if letters >= 10 && Double(upper) / Double(letters) >= 0.7 && shouted.count >= 2 {
            reasons.append(MoodReason(kind: .shouting, evidence: "message in capitals", weight: demanding ? 0.5 : 0.3))
        } else if demanding ? !shouted.isEmpty : shouted.contains(where: { $0.count >= 4 }) {
            reasons.append(MoodReason(kind: .shouting, evidence: shouted.prefix(3).joined(separator: " "),
                                      weight: demanding ? 0.3 : 0.2))
        }
        // A second run of marks ("where is it!!! why!!!") adds a little more.
        let again = runs.count >= 2 ? 0.1 : 0
        if let mixed = runs.first(where: { $0.contains("!") && $0.contains("?") }) {
            reasons.append(MoodReason(kind: .punctuation, evidence: mixed, weight: 0.35 + again))
        } else if let bangs = runs.first(where: { $0.count >= 2 && !$0.contains("?") }) {
            reasons.append(MoodReason(kind: .punctuation, evidence: bangs, weight: (bangs.count >= 3 ? 0.25 : 0.15) + again))
        } else if let questions = runs.first {
            reasons.append(MoodReason(kind: .punctuation, evidence: questions,
                                      weight: (questions.count >= 3 ? 0.2 : 0.15) + again))
        }
        return reasons
    }

    /// The letters, the capitals, the shouted words (3+ capitals, not an acronym) and the runs of 2+ "!" or "?"
    /// (other punctuation between marks is skipped; a space, letter or digit ends a run) of a message.
    private typealias Typography = (letters: Int, upper: Int, shouted: [String], runs: [String])

    private static func unicodeTypography(_ text: String) -> Typography {
        var letters = 0
        var upper = 0
        var shouted: [String] = []
        var word = ""
        func endWord() {
            defer { word = "" }
            guard word.count >= 3, word.allSatisfy({ $0.isUppercase }), !MoodLexicon.acronyms.contains(word) else {
                return
            }
            shouted.append(word)
        }
        for character in text {
            if character.isLetter {
                letters += 1
                if character.isUppercase { upper += 1 }
                word.append(character)
            } else {
                endWord()
            }
        }
        endWord()

        let marks = Array(text.filter { $0 == "!" || $0 == "?" || $0 == " " || $0.isLetter || $0.isNumber })
        var runs: [String] = []
        var run = ""
        for mark in marks {
            if mark == "!" || mark == "?" {
                run.append(mark)
            } else {
                if run.count >= 2 { runs.append(run) }
                run = ""
            }
        }
        if run.count >= 2 { runs.append(run) }
        return (letters, upper, shouted, runs)
    }

    /// `unicodeTypography` for plain ASCII (most messages), on bytes: no Unicode property lookups.
    private static func asciiTypography(_ text: String) -> Typography {
        let bytes = Array(text.utf8)
        var letters = 0, upper = 0
        var shouted: [String] = []
        var runs: [String] = []
        var wordStart = -1, wordIsCapitals = true
        var run: [UInt8] = []
        func endWord(_ end: Int) {
            if wordStart >= 0 && end - wordStart >= 3 && wordIsCapitals {
                let word = String(decoding: bytes[wordStart..<end], as: UTF8.self)
                if !MoodLexicon.acronyms.contains(word) { shouted.append(word) }
            }
            wordStart = -1
            wordIsCapitals = true
        }
        func endRun() {
            if run.count >= 2 { runs.append(String(decoding: run, as: UTF8.self)) }
            run.removeAll(keepingCapacity: true)
        }
        for (i, byte) in bytes.enumerated() {
            let isCapital = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
            let isLetter = isCapital || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            if isLetter {
                letters += 1
                if isCapital { upper += 1 } else { wordIsCapitals = false }
                if wordStart < 0 { wordStart = i }
            } else {
                endWord(i)
            }
            if byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?") {
                run.append(byte)
            } else if isLetter || byte == UInt8(ascii: " ") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) {
                endRun()
            }
        }
        endWord(bytes.count)
        endRun()
        return (letters, upper, shouted, runs)
    }

    /// The text with every bracketed word ("[NAME]", "[email]") taken out.
    static func withoutPlaceholders(_ text: String) -> String {
        var result = ""
        var pending = ""
        var inside = false
        for character in text {
            if character == "[" {
                result += pending
                pending = "["
                inside = true
            } else if inside && character == "]" {
                pending = ""
                inside = false
                result.append(" ")
            } else if inside {
                pending.append(character)
                if !character.isLetter {
                    result += pending
                    pending = ""
                    inside = false
                }
            } else {
                result.append(character)
            }
        }
        return result + pending
    }

    public static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    /// A short hash of the message's words; empty for an empty message.
    static func fingerprint(_ words: [String]) -> String {
        guard words.count >= 2 else { return "" }
        return String(SHA256.hex(Array(words.joined(separator: " ").utf8)).prefix(16))
    }
}
