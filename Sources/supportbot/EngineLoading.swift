import Foundation
import SupportBotCore

extension KnowledgeOptions {
    /// Loads and checks the knowledge files; every problem is reported with file and line.
    func loadKnowledgeBase() throws -> KnowledgeBase {
        do {
            return try KnowledgeLoader.load(intentsDirectory: intents, knowledgeDirectory: knowledge)
        } catch let error as KnowledgeBaseError {
            throw UserFacingError(error.description)
        }
    }
}

/// Prints the matcher's reasoning for one message: tokens, corrections, candidates, decision.
enum Explanation {
    static func text(for reply: BotReply, config: MatchingConfig) -> String {
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
            lines.append("candidates:")
            if match.candidates.isEmpty { lines.append("  (none: no word of the message is known)") }
            for (i, candidate) in match.candidates.enumerated() {
                lines.append(String(format: "  %d. %@  %.3f (similarity %.3f, classifier %.3f)  %@", i + 1,
                                    candidate.intent, candidate.score, candidate.similarity, candidate.probability,
                                    "\"\(candidate.example)\""))
                lines.append("     shared: " + (candidate.sharedTerms.isEmpty ? "-" : candidate.sharedTerms.joined(separator: ", ")))
            }
        }
        lines.append(String(format: "decision:   %@ (%@; answer ≥ %.2f with a lead ≥ %.2f, clarify ≥ %.2f)",
                            reply.action.rawValue, reply.reason, config.answerThreshold, config.ambiguityMargin,
                            config.clarifyThreshold))
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

    init(_ reply: BotReply, explain: Bool) {
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
        }
    }
}
