import Foundation
import SupportBotCore
import SupportBotStore

extension KnowledgeOptions {
    /// Loads and checks the knowledge files; every problem is reported with file and line.
    func loadKnowledgeBase() throws -> KnowledgeBase {
        do {
            return try KnowledgeLoader.load(intentsDirectory: intents, knowledgeDirectory: knowledge)
        } catch let error as KnowledgeBaseError {
            throw UserFacingError(error.description)
        }
    }

    /// An engine (version 0) for the knowledge files, taking what an earlier build of the same files learned.
    func loadEngine() throws -> SupportEngine { LearningFolder.engine(for: try loadKnowledgeBase(), version: 0) }
}

/// Prints the matcher's reasoning for one message: tokens, corrections, candidates, decision.
enum Explanation {
    static func text(for turn: BotTurn, engine: SupportEngine) -> String {
        let config = engine.config
        let reply = turn.reply
        var lines: [String] = []
        if let match = reply.match {
            let words = match.tokens.map { token -> String in
                var word = token.word
                if let fixed = token.corrected { word += " → \(fixed) (spelling)" }
                if let synonym = token.synonym { word += " → \(synonym) (synonym)" }
                return word
            }
            lines.append("words:      " + words.joined(separator: " | "))
            lines.append("stems:      " + match.tokens.map(\.stem).joined(separator: " "))
            let related = engine.matcher.relatedWords(for: match.tokens)
            if !related.isEmpty {
                lines.append("related:    " + related.map {
                    String(format: "%@ ≈ %@ (WordNet %@, weight %.2f)", $0.word, $0.related, $0.kind.rawValue, $0.weight)
                }.joined(separator: " | "))
            }
            lines.append("candidates:")
            if match.candidates.isEmpty { lines.append("  (none: no word of the message is known)") }
            for (i, candidate) in match.candidates.enumerated() {
                lines.append(String(format: "  %d. %@  %.3f (similarity %.3f, classifier %.3f)  %@", i + 1,
                                    candidate.intent, candidate.score, candidate.similarity, candidate.probability,
                                    "\"\(candidate.example)\""))
                lines.append("     shared: " + (candidate.sharedTerms.isEmpty ? "-" : candidate.sharedTerms.joined(separator: ", ")))
            }
        }
        if let doubt = reply.match?.doubt {
            let factors = reply.match?.doubtFactors.map { String(format: "%@ %.3g %+.2f", $0.name, $0.value, $0.push) } ?? []
            lines.append(String(format: "doubt:      %.2f (falls back at %.2f; strongest: %@)", doubt, config.doubtThreshold,
                                factors.joined(separator: ", ")))
        }
        if reply.match?.doubt != nil {
            lines.append(String(format: "decision:   %@ (%@; the doubt decides: fall back at ≥ %.2f, answer below it, "
                                + "but ask about a close call of fewer than %d words scoring ≥ %.2f)",
                                reply.action.rawValue, reply.reason, config.doubtThreshold,
                                SupportEngine.wordsToSkipAsking, max(config.clarifyThreshold, config.askThreshold)))
        } else {
            lines.append(String(format: "decision:   %@ (%@; answer ≥ %.2f with a lead ≥ %.2f, clarify ≥ %.2f)",
                                reply.action.rawValue, reply.reason, config.answerThreshold, config.ambiguityMargin,
                                config.clarifyThreshold))
        }
        let mood = turn.mood
        lines.append(String(format: "mood:       %.2f this message, %.2f conversation", mood.message, mood.conversation)
            + (mood.reasons.isEmpty ? "" : " (" + mood.reasons.map(\.summary).joined(separator: ", ") + ")"))
        if let handoff = turn.handoff {
            lines.append("handoff:    \(handoff.reason.rawValue), \(handoff.level.name) (\(handoff.explanation))")
        }
        return lines.joined(separator: "\n")
    }
}

/// The JSON shape of a reply for `ask --json`.
struct ReplyJSON: Encodable {
    var action: String
    var text: String
    var intent: String?
    var confidence: Double
    var options: [ReplyOption]
    var suggestions: [Suggestion]
    var reason: String
    var tokens: [TokenTrace]?
    var candidates: [Candidate]?
    var doubt: Double?
    var doubtFactors: [DoubtFactor]?
    var mood: Double
    var moodReasons: [MoodReason]
    var handoff: HandoffJSON?

    enum CodingKeys: String, CodingKey {
        case action, text, intent, confidence, options, suggestions, reason, tokens, candidates, doubt, mood, handoff
        case doubtFactors = "doubt_factors"
        case moodReasons = "mood_reasons"
    }

    struct HandoffJSON: Encodable {
        var reason: String
        var priority: String
        var explanation: String
    }

    init(_ turn: BotTurn, explain: Bool) {
        let reply = turn.reply
        mood = turn.mood.conversation
        moodReasons = turn.mood.reasons
        handoff = turn.handoff.map {
            HandoffJSON(reason: $0.reason.rawValue, priority: $0.level.name, explanation: $0.explanation)
        }
        action = reply.action.rawValue
        text = reply.text
        intent = reply.intent
        confidence = reply.confidence
        options = reply.options
        suggestions = reply.suggestions
        reason = reply.reason
        if explain {
            tokens = reply.match?.tokens ?? []
            candidates = reply.match?.candidates ?? []
            doubt = reply.match?.doubt
            doubtFactors = reply.match?.doubtFactors
        }
    }
}
