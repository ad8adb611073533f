import Foundation
import Yams

/// One thing the linter found, reported like a compiler: `file:line: error: message`.
public struct LintIssue: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error, warning
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// Limits the linter checks against; override under `lint:` in `knowledge/_settings.yml`.
public struct LintSettings: Sendable, Equatable {
    /// Highest Flesch-Kincaid grade for an answer or a bot sentence.
    public var maxGrade: Double = 6
    /// Longer sentences get a warning.
    public var maxSentenceWords: Int = 20
    /// Intents with fewer examples get a warning.
    public var minExamples: Int = 5

    public init() {}

    public static let settingNames = ["max_grade", "max_sentence_words", "min_examples"]
}

/// Checks what customers will read and what the matcher will see, before anyone publishes it: reading grade
/// (as textstat computes it), long sentences, jargon, unused articles, thin intents and examples two intents share.
public enum KnowledgeLinter {
    public static let jargonFile = "knowledge/_jargon.yml"

    /// Hard words with a plain word to use instead, used when the knowledge base has no `_jargon.yml`.
    public static let starterJargon: [String: String] = [
        "approximately": "about", "assistance": "help", "commence": "start", "terminate": "end",
        "purchase": "buy", "utilize": "use", "utilise": "use", "facilitate": "help", "subsequently": "later",
        "prior to": "before", "in order to": "to", "endeavour": "try", "endeavor": "try", "remittance": "payment",
        "reimbursement": "refund", "dispatch": "send", "consignment": "parcel", "correspondence": "letter or e-mail",
        "inquire": "ask", "enquire": "ask", "require": "need", "sufficient": "enough", "additional": "more",
        "numerous": "many", "regarding": "about", "pertaining to": "about", "in the event that": "if",
        "notwithstanding": "even so", "aforementioned": "this", "commensurate": "equal", "ascertain": "find out",
        "expedite": "speed up", "finalise": "finish", "finalize": "finish", "obtain": "get", "provide": "give",
        "therefore": "so", "however": "but", "whereas": "while", "nevertheless": "still", "verification": "check",
        "authenticate": "check", "credentials": "login details", "functionality": "feature", "via": "by",
    ]

    public static func lint(_ knowledgeBase: KnowledgeBase, botMessages: BotMessages? = nil) -> [LintIssue] {
        var issues: [LintIssue] = []
        let settings = knowledgeBase.lint
        let jargon = loadJargon(knowledgeBase, issues: &issues)

        // What customers read: articles, inline replies and the bot's own sentences.
        for article in knowledgeBase.articles.values.sorted(by: { $0.id < $1.id }) {
            check(article.body, file: article.location.file, firstLine: article.bodyLine, settings: settings,
                  jargon: jargon, issues: &issues)
        }
        for intent in knowledgeBase.intents {
            if case .reply(let text) = intent.response {
                check(text, file: intent.location.file, firstLine: intent.location.line ?? 1, settings: settings,
                      jargon: jargon, issues: &issues, sameLine: true)
            }
        }
        let messages = botMessages ?? BotMessages(settings: knowledgeBase.settings)
        for sample in messages.allSamples {
            check(sample, file: "(bot's own sentences)", firstLine: nil, settings: settings, jargon: jargon,
                  issues: &issues, sameLine: true)
        }

        // Articles no intent answers with.
        let used = Set(knowledgeBase.intents.compactMap { intent -> String? in
            if case .article(let id) = intent.response { return id }
            return nil
        })
        for article in knowledgeBase.articles.values.sorted(by: { $0.id < $1.id }) where !used.contains(article.id) {
            issues.append(LintIssue(severity: .warning, location: article.location,
                                    message: "no intent answers with this article; add `answer: \(article.id)` "
                                        + "to an intent, or remove the file"))
        }

        // An answer that ends by offering more, with no topic for "yes" to pick.
        for intent in knowledgeBase.intents where intent.suggest.isEmpty && !intent.handoff {
            guard case .article(let id) = intent.response, let article = knowledgeBase.articles[id],
                  let offer = SupportEngine.endsWithOffer(article.body) else { continue }
            issues.append(LintIssue(
                severity: .warning, location: intent.location,
                message: "the answer of \(intent.id) ends with an offer (\"\(offer)\"), but \(intent.id) has no "
                    + "`suggest:` topics, so a customer who says \"yes\" gets nothing; list the topic it offers under "
                    + "`suggest:`, or end the answer without the offer"))
        }

        // Thin intents, and examples two intents share.
        let analyzer = TextAnalyzer(synonyms: knowledgeBase.synonyms, speller: nil)
        var owners: [String: (intent: String, example: String)] = [:]
        var stemOwners: [String: (intent: String, example: String)] = [:]
        for intent in knowledgeBase.intents {
            if intent.examples.count < settings.minExamples {
                issues.append(LintIssue(severity: .warning, location: intent.location,
                                        message: "intent \(intent.id) has \(intent.examples.count) examples; give it at "
                                            + "least \(settings.minExamples) different ways to say it"))
            }
            for example in intent.examples {
                let normalised = TextNormalizer.tokens(example).joined(separator: " ")
                let location = exampleLocation(example, of: intent, in: knowledgeBase)
                if let owner = owners[normalised], owner.intent != intent.id {
                    issues.append(LintIssue(severity: .error, location: location,
                                            message: "\"\(example)\" is also an example of \(owner.intent) "
                                                + "(\"\(owner.example)\"); keep it in one intent only"))
                    continue
                }
                owners[normalised] = (intent.id, example)
                let stems = analyzer.analyze(example, correctSpelling: false).map(\.stem).sorted().joined(separator: " ")
                if let owner = stemOwners[stems], owner.intent != intent.id, !stems.isEmpty {
                    issues.append(LintIssue(severity: .warning, location: location,
                                            message: "\"\(example)\" and \"\(owner.example)\" (\(owner.intent)) have the "
                                                + "same words to the matcher, so it can't tell them apart; "
                                                + "reword one of them"))
                } else {
                    stemOwners[stems] = (intent.id, example)
                }
            }
        }
        return issues
    }

    /// Grade of the whole text, long sentences and jargon, each at the line of the sentence.
    /// The sentence to name as the hardest: the one with the highest grade of its own, of more than two words. The
    /// grade itself follows textstat, whose sentence split also breaks at the dot inside "help@shop.example" or
    /// "4.5 kg"; here a sentence ends only at a stop followed by a space or the end, so the sentence named is the
    /// whole one, with its address and numbers, not a piece.
    static func hardestSentence(of text: String) -> String {
        let sentences = wholeSentences(of: text)
        return sentences.filter { Readability.wordCount($0) > 2 }.max { Readability($0).grade < Readability($1).grade }
            ?? sentences.max { Readability($0).grade < Readability($1).grade } ?? text
    }

    /// Sentences split at ".", "!" or "?" (one or more) followed by white space or the end of the text.
    static func wholeSentences(of text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            current.append(character)
            let next = text.index(after: index)
            if ".!?".contains(character), next == text.endIndex || text[next].isWhitespace {
                let sentence = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !sentence.isEmpty { sentences.append(sentence) }
                current = ""
            }
            index = next
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { sentences.append(rest) }
        return sentences
    }

    static func check(_ text: String, file: String, firstLine: Int?, settings: LintSettings,
                      jargon: [(words: [String], phrase: String, plain: String)], issues: inout [LintIssue],
                      sameLine: Bool = false) {
        let sentences = Readability.sentences(of: text)
        func line(of sentence: String) -> Int? {
            guard let firstLine else { return nil }
            if sameLine { return firstLine }
            guard let range = text.range(of: sentence) else { return firstLine }
            return firstLine + text[..<range.lowerBound].filter { $0 == "\n" }.count
                + sentence.prefix(while: { $0 == "\n" || $0 == " " }).filter { $0 == "\n" }.count
        }
        let whole = Readability(text)
        if whole.grade > settings.maxGrade {
            let hardest = hardestSentence(of: text)
            issues.append(LintIssue(
                severity: .error, location: SourceLocation(file: file, line: line(of: hardest)),
                message: String(format: "grade %.1f (max %.0f); hardest sentence (grade %.1f): \"%@\"", whole.grade,
                                settings.maxGrade, Readability(hardest).grade, shorten(hardest))))
        }
        for sentence in sentences {
            let words = Readability.wordCount(sentence)
            if words > settings.maxSentenceWords {
                issues.append(LintIssue(severity: .warning, location: SourceLocation(file: file, line: line(of: sentence)),
                                        message: "sentence of \(words) words (max \(settings.maxSentenceWords)); split it: "
                                            + "\"\(shorten(sentence))\""))
            }
            let tokens = TextNormalizer.tokens(sentence)
            for entry in jargon where tokens.firstPhrase(of: [entry.words]) != nil {
                issues.append(LintIssue(severity: .warning, location: SourceLocation(file: file, line: line(of: sentence)),
                                        message: "hard word \"\(entry.phrase)\": say \"\(entry.plain)\" instead"))
            }
        }
    }

    static func loadJargon(_ knowledgeBase: KnowledgeBase, issues: inout [LintIssue])
        -> [(words: [String], phrase: String, plain: String)] {
        var table = starterJargon
        if let text = knowledgeBase.files[jargonFile] {
            do {
                let loaded = try Yams.load(yaml: text)
                // A file with only comments is an empty list.
                guard let mapping = (loaded == nil ? [:] : loaded as? [String: Any]) else {
                    throw YamlError.representer(problem: "not a mapping")
                }
                table = [:]
                for (word, plain) in mapping { table[word.lowercased()] = "\(plain)" }
            } catch {
                issues.append(LintIssue(severity: .error, location: SourceLocation(file: jargonFile),
                                        message: "can't read the jargon list; write one `hard word: plain word` per line"))
            }
        }
        return table.keys.sorted().map { (TextNormalizer.tokens($0), $0, table[$0]!) }.filter { !$0.words.isEmpty }
    }

    /// The line of an example in its intents file: the first line after the intent's own line that holds it.
    /// Every example, typed exactly as written as the first message of a chat, must be answered with its own
    /// intent: an error names each one that is not, and what the bot did instead. (Examples two intents share are
    /// reported by `lint` already.) Follow-up intents (`after:`) are tried after an answer of their first parent.
    public static func examplesNotAnswered(by engine: SupportEngine) -> [LintIssue] {
        let knowledgeBase = engine.knowledgeBase
        var shared: [String: Int] = [:]
        for intent in knowledgeBase.intents {
            for example in Set(intent.examples.map { TextNormalizer.tokens($0).joined(separator: " ") }) {
                shared[example, default: 0] += 1
            }
        }
        var issues: [LintIssue] = []
        for intent in knowledgeBase.intents {
            for example in intent.examples where shared[TextNormalizer.tokens(example).joined(separator: " ")] == 1 {
                var context = DialogueContext()
                if let parent = intent.after.first, let parentIntent = knowledgeBase.intent(parent),
                   let parentExample = parentIntent.examples.first {
                    _ = engine.respond(to: parentExample, context: &context)
                }
                let turn = engine.respond(to: example, context: &context)
                let reply = turn.reply
                guard reply.action != .answer || reply.intent != intent.id else { continue }
                let got = reply.action == .answer ? "answered with \(reply.intent ?? "-")"
                    : reply.action == .clarify ? "asked \"Did you mean…?\"" : "did not understand it"
                let fix = reply.action == .answer
                    ? "make the two intents' examples more different"
                    : "add a few more ways to say it, or set matching: doubt_threshold higher in _settings.yml"
                issues.append(LintIssue(severity: .error, location: exampleLocation(example, of: intent, in: knowledgeBase),
                                        message: "the example \"\(example)\" of \(intent.id), typed exactly, is not "
                                            + "answered with it: the bot \(got); \(fix)"))
            }
        }
        return issues
    }

    static func exampleLocation(_ example: String, of intent: Intent, in knowledgeBase: KnowledgeBase) -> SourceLocation {
        guard let text = knowledgeBase.files[intent.location.file], let start = intent.location.line else {
            return intent.location
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard start >= 1, start <= lines.count else { return intent.location }
        for index in (start - 1)..<lines.count where lines[index].contains(example) {
            return SourceLocation(file: intent.location.file, line: index + 1)
        }
        return intent.location
    }

    static func shorten(_ sentence: String) -> String {
        let flat = sentence.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return flat.count > 90 ? String(flat.prefix(87)) + "…" : flat
    }
}
