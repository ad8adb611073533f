import Foundation
import Yams

/// Parses and checks the knowledge files (`intents/*.yml`, `knowledge/**/*.md`, `knowledge/_settings.yml`,
/// `intents/_synonyms.yml`). Collects every problem with file and line instead of stopping at the first.
public enum KnowledgeLoader {
    public static let settingsFile = "knowledge/_settings.yml"
    public static let synonymsFile = "intents/_synonyms.yml"

    public static func load(intentsDirectory: String, knowledgeDirectory: String) throws -> KnowledgeBase {
        try load(files: KnowledgeFiles.read(intentsDirectory: intentsDirectory, knowledgeDirectory: knowledgeDirectory))
    }

    /// Parses files given as `[relative path: content]`. Throws `KnowledgeBaseError` listing every problem.
    public static func load(files: [String: String]) throws -> KnowledgeBase {
        var parser = Parser(files: files)
        return try parser.run()
    }

    /// Reads only the `matching:` thresholds of a `_settings.yml` (for measuring on outside data sets).
    public static func matchingConfig(settingsYAML: String) throws -> MatchingConfig {
        var parser = Parser(files: [settingsFile: settingsYAML])
        parser.loadSettings()
        if !parser.issues.isEmpty { throw KnowledgeBaseError(issues: parser.issues) }
        return parser.matching
    }

    /// Reads only the `handoff:` settings of a `_settings.yml` (for `supportbot mood`).
    public static func handoffSettings(settingsYAML: String) throws -> HandoffSettings {
        var parser = Parser(files: [settingsFile: settingsYAML])
        parser.loadSettings()
        if !parser.issues.isEmpty { throw KnowledgeBaseError(issues: parser.issues) }
        return parser.handoff
    }

    private struct Parser {
        /// The files to read (a file too big to be knowledge is reported and taken out).
        var files: [String: String]
        var issues: [KnowledgeIssue] = []
        var settings: [String: String] = [:]
        var matching = MatchingConfig()
        var handoff = HandoffSettings()
        var lint = LintSettings()
        /// Intents and articles that were reported already: references to them are not reported again.
        var rejectedIntents = Set<String>()
        var rejectedArticles = Set<String>()

        init(files: [String: String]) { self.files = files }

        mutating func run() throws -> KnowledgeBase {
            // Files too big to be knowledge are reported and left out: nothing below reads them (and the issue
            // stops the load).
            for path in files.keys.sorted() {
                let limit = path.hasSuffix(".md") ? KnowledgeLimits.maxArticleBytes : KnowledgeLimits.maxYAMLBytes
                let size = files[path]!.utf8.count
                guard size > limit else { continue }
                issues.append(KnowledgeIssue(SourceLocation(file: path), "this file is \(KnowledgeLimits.describe(size)); "
                    + "the most a knowledge file may hold is \(KnowledgeLimits.describe(limit)). Split it into smaller files."))
                files.removeValue(forKey: path)
            }
            loadSettings()
            let synonyms = loadSynonyms()
            var articles: [String: Article] = [:]
            for path in files.keys.sorted() where isArticle(path) {
                BuildPacer.breathe()
                if let article = loadArticle(path: path) { articles[article.id] = article }
            }
            var intents: [Intent] = []
            for path in files.keys.sorted() where isIntentFile(path) {
                BuildPacer.breathe()
                intents.append(contentsOf: loadIntents(path: path))
            }
            if intents.isEmpty && issues.isEmpty {
                issues.append(KnowledgeIssue(SourceLocation(file: "intents/"),
                                             "no intents found. Add at least one intents/*.yml file."))
            }
            checkReferences(intents: intents, articles: articles)
            if !issues.isEmpty { throw KnowledgeBaseError(issues: issues) }
            return KnowledgeBase(intents: intents, articles: articles, settings: settings, synonyms: synonyms,
                                 matching: matching, handoff: handoff, lint: lint, files: files)
        }

        func isArticle(_ path: String) -> Bool {
            path.hasPrefix("knowledge/") && path.hasSuffix(".md") && !fileName(path).hasPrefix("_")
        }

        func isIntentFile(_ path: String) -> Bool {
            guard path.hasPrefix("intents/"), path.hasSuffix(".yml") || path.hasSuffix(".yaml") else { return false }
            let inner = path.dropFirst("intents/".count)
            return !inner.contains("/") && !inner.hasPrefix("_")
        }

        func fileName(_ path: String) -> Substring { path.split(separator: "/").last ?? Substring(path) }

        // MARK: YAML helpers

        mutating func parseYAML(_ text: String, file: String, lineOffset: Int = 0) -> Node? {
            do {
                return try KnowledgeLimits.compose(text)
            } catch let error as KnowledgeLimits.TooMuchYAML {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: error.line.map { $0 + lineOffset }),
                                             error.message))
            } catch let error as YamlError {
                issues.append(Self.issue(for: error, file: file, lineOffset: lineOffset))
            } catch {
                issues.append(KnowledgeIssue(SourceLocation(file: file), "bad YAML: \(error)"))
            }
            return nil
        }

        static func issue(for error: YamlError, file: String, lineOffset: Int) -> KnowledgeIssue {
            switch error {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                let detail = context.map { "\(problem) (\($0.text))" } ?? problem
                return KnowledgeIssue(SourceLocation(file: file, line: mark.line + lineOffset),
                                      "bad YAML: \(detail). Check the indentation and quotes on this line.")
            case let .duplicatedKeysInMapping(duplicates, context):
                return KnowledgeIssue(SourceLocation(file: file, line: context.mark.line + lineOffset),
                                      "bad YAML: the key \(duplicates.joined(separator: ", ")) appears twice")
            default:
                return KnowledgeIssue(SourceLocation(file: file), "bad YAML: \(error)")
            }
        }

        func line(_ node: Node, offset: Int = 0) -> Int? { node.mark.map { $0.line + offset } }

        /// The first line of a scalar's text: for `|` and `>` blocks that is the line after the marker.
        func contentLine(_ node: Node) -> Int? {
            guard let start = line(node) else { return nil }
            switch node.scalar?.style {
            case .literal?, .folded?: return start + 1
            default: return start
            }
        }

        // MARK: Settings and synonyms

        mutating func loadSettings() {
            guard let text = files[KnowledgeLoader.settingsFile] else { return }
            let file = KnowledgeLoader.settingsFile
            guard let root = parseYAML(text, file: file) else { return }
            guard let mapping = root.mapping else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(root)),
                                             "settings must be a list of `name: value` lines"))
                return
            }
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else { continue }
                if key == "matching" {
                    loadMatching(value, file: file)
                } else if key == "handoff" {
                    loadHandoff(value, file: file)
                } else if key == "lint" {
                    loadLint(value, file: file)
                } else if let scalar = value.scalar {
                    settings[key] = scalar.string
                } else {
                    issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(keyNode)),
                                                 "the setting '\(key)' must be a single value, not a list"))
                }
            }
        }

        mutating func loadMatching(_ node: Node, file: String) {
            guard let mapping = node.mapping else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(node)),
                                             "'matching' must hold `name: number` lines"))
                return
            }
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? ""
                let location = SourceLocation(file: file, line: line(keyNode))
                guard let number = value.scalar.flatMap({ Double($0.string) }) else {
                    issues.append(KnowledgeIssue(location, "matching.\(key) must be a number"))
                    continue
                }
                if let problem = matching.set(key, to: number) { issues.append(KnowledgeIssue(location, problem)) }
            }
        }

        mutating func loadLint(_ node: Node, file: String) {
            guard let mapping = node.mapping else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(node)),
                                             "'lint' must hold `name: number` lines"))
                return
            }
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? ""
                let location = SourceLocation(file: file, line: line(keyNode))
                guard let number = value.scalar.flatMap({ Double($0.string) }) else {
                    issues.append(KnowledgeIssue(location, "lint.\(key) must be a number"))
                    continue
                }
                switch key {
                case "max_grade" where (1...20).contains(number): lint.maxGrade = number
                case "max_sentence_words" where number >= 5 && number == number.rounded(): lint.maxSentenceWords = Int(number)
                case "min_examples" where number >= 1 && number == number.rounded(): lint.minExamples = Int(number)
                case "max_grade": issues.append(KnowledgeIssue(location, "lint.max_grade must be from 1 to 20"))
                case "max_sentence_words":
                    issues.append(KnowledgeIssue(location, "lint.max_sentence_words must be a whole number, at least 5"))
                case "min_examples":
                    issues.append(KnowledgeIssue(location, "lint.min_examples must be a whole number, at least 1"))
                default:
                    issues.append(KnowledgeIssue(location, "unknown setting lint.\(key); known: "
                                                 + LintSettings.settingNames.joined(separator: ", ")))
                }
            }
        }

        mutating func loadHandoff(_ node: Node, file: String) {
            guard let mapping = node.mapping else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(node)),
                                             "'handoff' must hold `name: value` lines"))
                return
            }
            var timeZone = handoff.openingHours.timeZone
            var days = handoff.openingHours.days
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? ""
                let location = SourceLocation(file: file, line: line(keyNode))
                switch key {
                case "mood_threshold":
                    guard let number = value.scalar.flatMap({ Double($0.string) }), number > 0, number <= 1 else {
                        issues.append(KnowledgeIssue(location, "handoff.mood_threshold must be a number above 0 and at most 1"))
                        continue
                    }
                    handoff.moodThreshold = number
                case "timezone":
                    guard let name = value.scalar?.string, let zone = TimeZone(identifier: name) else {
                        issues.append(KnowledgeIssue(location, "handoff.timezone must be a time zone name like "
                                                     + "Europe/London or America/New_York"))
                        continue
                    }
                    timeZone = zone
                case "opening_hours":
                    guard let dayMapping = value.mapping else {
                        issues.append(KnowledgeIssue(location, "handoff.opening_hours must hold `day: \"09:00-17:00\"` lines"))
                        continue
                    }
                    // Days not listed are closed once opening hours are given.
                    days = [:]
                    for (dayNode, hours) in dayMapping {
                        let dayName = (dayNode.string ?? "").lowercased()
                        let dayLocation = SourceLocation(file: file, line: line(dayNode))
                        let weekdays: [Int]
                        switch dayName {
                        case "weekdays": weekdays = [2, 3, 4, 5, 6]
                        case "weekend": weekdays = [1, 7]
                        case "every_day", "daily": weekdays = Array(1...7)
                        default:
                            guard let index = OpeningHours.dayNames.firstIndex(of: dayName) else {
                                issues.append(KnowledgeIssue(dayLocation, "unknown day '\(dayName)' in handoff.opening_hours; "
                                                             + "use monday … sunday, weekdays, weekend or every_day"))
                                continue
                            }
                            weekdays = [index + 1]
                        }
                        guard let ranges = hours.scalar.flatMap({ OpeningHours.parseDay($0.string) }) else {
                            issues.append(KnowledgeIssue(dayLocation, "opening hours for \(dayName) must look like "
                                                         + "\"09:00-17:00\", \"09:00-12:00, 13:00-17:00\" or closed"))
                            continue
                        }
                        for weekday in weekdays { days[weekday] = ranges }
                    }
                default:
                    issues.append(KnowledgeIssue(location, "unknown setting handoff.\(key); known: "
                                                 + HandoffSettings.settingNames.joined(separator: ", ")))
                }
            }
            handoff.openingHours = OpeningHours(days: days, timeZone: timeZone)
        }

        mutating func loadSynonyms() -> Synonyms {
            let file = KnowledgeLoader.synonymsFile
            guard let text = files[file], let root = parseYAML(text, file: file) else { return Synonyms() }
            guard let mapping = root.mapping else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(root)),
                                             "synonyms must be `word: [other, words]` lines"))
                return Synonyms()
            }
            var result: [String: String] = [:]
            var variantLines: [String: Int?] = [:]
            for (keyNode, value) in mapping {
                let canonicalTokens = TextNormalizer.tokens(keyNode.string ?? "")
                guard canonicalTokens.count == 1 else {
                    issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(keyNode)),
                                                 "a synonym must be one word; '\(keyNode.string ?? "")' is not"))
                    continue
                }
                let variants = value.sequence.map { Array($0) } ?? [value]
                for variant in variants {
                    let tokens = TextNormalizer.tokens(variant.string ?? "")
                    guard tokens.count == 1 else {
                        issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(variant)),
                                                     "a synonym must be one word; '\(variant.string ?? "")' is not"))
                        continue
                    }
                    if let existing = result[tokens[0]], existing != canonicalTokens[0] {
                        issues.append(KnowledgeIssue(
                            SourceLocation(file: file, line: line(variant)),
                            "'\(tokens[0])' is already a synonym of '\(existing)'; a word can have one meaning only"))
                    }
                    result[tokens[0]] = canonicalTokens[0]
                    variantLines[tokens[0]] = line(variant)
                }
            }
            // A chain (box: [parcel], parcel: [package]) would map customers' and writers' words differently.
            for (variant, canonical) in result.sorted(by: { $0.key < $1.key }) {
                if let further = result[canonical], further != canonical {
                    issues.append(KnowledgeIssue(
                        SourceLocation(file: file, line: variantLines[variant] ?? nil),
                        "'\(canonical)' has its own synonyms and is also a synonym of '\(further)'. "
                            + "List all of them under one word: \(further): [\(canonical), \(variant), …]"))
                }
            }
            return Synonyms(result)
        }

        // MARK: Placeholders

        /// Replaces `{{name}}` with its setting; unknown names are reported at their line.
        mutating func fill(_ text: String, file: String, line firstLine: Int?) -> String {
            guard text.contains("{{") else { return text }
            var output = ""
            var rest = Substring(text)
            var currentLine = firstLine ?? 1
            while let open = rest.range(of: "{{") {
                let before = rest[..<open.lowerBound]
                output += before
                currentLine += before.filter { $0 == "\n" }.count
                guard let close = rest[open.upperBound...].range(of: "}}") else {
                    issues.append(KnowledgeIssue(SourceLocation(file: file, line: firstLine == nil ? nil : currentLine),
                                                 "'{{' has no closing '}}'"))
                    output += rest[open.lowerBound...]
                    return output
                }
                let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                if let value = settings[name] {
                    output += value
                } else {
                    let known = settings.keys.sorted().joined(separator: ", ")
                    issues.append(KnowledgeIssue(
                        SourceLocation(file: file, line: firstLine == nil ? nil : currentLine),
                        "unknown placeholder {{\(name)}}. Add '\(name)' to \(KnowledgeLoader.settingsFile)"
                            + (known.isEmpty ? "" : " or use one of: \(known)")))
                    output += rest[open.lowerBound..<close.upperBound]
                }
                rest = rest[close.upperBound...]
            }
            output += rest
            return output
        }

        // MARK: Articles

        mutating func loadArticle(path: String) -> Article? {
            let text = files[path]!.replacingOccurrences(of: "\r\n", with: "\n")
            let id = String(path.dropFirst("knowledge/".count).dropLast(".md".count))
            var lines = text.components(separatedBy: "\n")
            var title: String?
            var tags: [String] = []
            var bodyStart = 0
            var frontMatterParsed = true
            // Files end with a newline: the empty string after it is not a line of its own.
            let lineCount = text.hasSuffix("\n") ? lines.count - 1 : lines.count
            if lines.first?.trimmingCharacters(in: .whitespaces) == "---" {
                guard let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" })
                else {
                    issues.append(KnowledgeIssue(SourceLocation(file: path, line: 1),
                                                 "the front matter starts with '---' but never ends. Add a '---' line after it."))
                    rejectedArticles.insert(id)
                    return nil
                }
                let yaml = lines[1..<end].joined(separator: "\n")
                let node = parseYAML(yaml, file: path, lineOffset: 1)
                frontMatterParsed = node != nil
                if let node {
                    guard let mapping = node.mapping else {
                        issues.append(KnowledgeIssue(SourceLocation(file: path, line: 2),
                                                     "front matter must be `title: …` and `tags: […]` lines"))
                        rejectedArticles.insert(id)
                        return nil
                    }
                    for (keyNode, value) in mapping {
                        let location = SourceLocation(file: path, line: line(keyNode, offset: 1))
                        switch keyNode.string {
                        case "title":
                            title = value.string.map { fill($0, file: path, line: line(value, offset: 1)) }
                        case "tags":
                            tags = stringList(value, field: "tags", file: path, offset: 1)
                        default:
                            issues.append(KnowledgeIssue(location,
                                                         "unknown front matter field '\(keyNode.string ?? "")' (use title or tags)"))
                        }
                    }
                }
                bodyStart = end + 1
            }
            lines.removeFirst(min(bodyStart, lines.count))
            while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty {
                lines.removeFirst()
                bodyStart += 1
            }
            let rawBody = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            guard frontMatterParsed else {
                rejectedArticles.insert(id)
                return nil
            }
            guard let title, !title.trimmingCharacters(in: .whitespaces).isEmpty else {
                rejectedArticles.insert(id)
                issues.append(KnowledgeIssue(SourceLocation(file: path, line: 1),
                                             "the article has no title. Start the file with:\n---\ntitle: A short title\n---"))
                return nil
            }
            guard !rawBody.isEmpty else {
                issues.append(KnowledgeIssue(SourceLocation(file: path, line: max(1, min(bodyStart + 1, lineCount + 1))),
                                             "the article has no text. Write the answer below the front matter."))
                rejectedArticles.insert(id)
                return nil
            }
            let body = fill(rawBody, file: path, line: bodyStart + 1)
            return Article(id: id, title: title, tags: tags, body: body,
                           location: SourceLocation(file: path, line: 1), bodyLine: bodyStart + 1)
        }

        mutating func stringList(_ node: Node, field: String, file: String, offset: Int = 0) -> [String] {
            if let scalar = node.scalar { return scalar.string.isEmpty ? [] : [scalar.string] }
            guard let sequence = node.sequence else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(node, offset: offset)),
                                             "'\(field)' must be a list, like [a, b]"))
                return []
            }
            var values: [String] = []
            for item in sequence {
                guard let value = item.scalar?.string else {
                    issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(item, offset: offset)),
                                                 "each entry of '\(field)' must be plain text"))
                    continue
                }
                values.append(value)
            }
            return values
        }

        // MARK: Intents

        static let intentFields: Set<String> = [
            "id", "title", "examples", "answer", "reply", "tags", "handoff", "after", "suggest",
        ]

        mutating func loadIntents(path: String) -> [Intent] {
            guard let root = parseYAML(files[path]!, file: path) else { return [] }
            if case .scalar(let scalar) = root, scalar.string.isEmpty { return [] }
            guard let sequence = root.sequence else {
                issues.append(KnowledgeIssue(SourceLocation(file: path, line: line(root)),
                                             "an intents file must be a list: start each intent with '- id: …'"))
                return []
            }
            var intents: [Intent] = []
            for item in sequence {
                if let intent = loadIntent(item, path: path) { intents.append(intent) }
            }
            return intents
        }

        mutating func loadIntent(_ node: Node, path: String) -> Intent? {
            let location = SourceLocation(file: path, line: line(node))
            guard let mapping = node.mapping else {
                issues.append(KnowledgeIssue(location, "each intent must be a set of fields like 'id:', 'title:', 'examples:'"))
                return nil
            }
            var fields: [String: Node] = [:]
            var fieldLines: [String: Int] = [:]
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? ""
                if !Self.intentFields.contains(key) {
                    let hint = Self.intentFields.sorted().joined(separator: ", ")
                    issues.append(KnowledgeIssue(SourceLocation(file: path, line: line(keyNode)),
                                                 "unknown field '\(key)'. Intent fields are: \(hint)"))
                    continue
                }
                fields[key] = value
                fieldLines[key] = line(keyNode)
            }
            guard let id = fields["id"]?.scalar?.string, !id.isEmpty else {
                issues.append(KnowledgeIssue(location, "this intent has no 'id'. Add one, like 'id: orders.track'"))
                return nil
            }
            let title = fields["title"]?.scalar.map { fill($0.string, file: path, line: fieldLines["title"]) } ?? ""
            if title.isEmpty {
                issues.append(KnowledgeIssue(location, "intent '\(id)' has no 'title'. Customers see it in \"Did you mean…\"."))
            }
            var examples: [String] = []
            if let examplesNode = fields["examples"] {
                examples = stringList(examplesNode, field: "examples", file: path)
                    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                    .filter { !$0.isEmpty }
            }
            if examples.isEmpty {
                issues.append(KnowledgeIssue(SourceLocation(file: path, line: fieldLines["examples"] ?? location.line),
                                             "intent '\(id)' has no examples. Add what customers would type, one per line."))
            }
            if examples.count > KnowledgeLimits.maxExamplesPerIntent {
                issues.append(KnowledgeIssue(SourceLocation(file: path, line: fieldLines["examples"] ?? location.line),
                    "intent '\(id)' has \(examples.count) examples; the most an intent may have is "
                        + "\(KnowledgeLimits.maxExamplesPerIntent). Keep the best ones, or split it into more specific intents."))
                examples = Array(examples.prefix(KnowledgeLimits.maxExamplesPerIntent))
            }
            let response: IntentResponse
            switch (fields["answer"]?.scalar?.string, fields["reply"]?.scalar?.string) {
            case (let answer?, nil):
                response = .article(id: answer)
            case (nil, let reply?):
                response = .reply(fill(reply, file: path, line: contentLine(fields["reply"]!)))
            case (.some, .some):
                issues.append(KnowledgeIssue(location, "intent '\(id)' has both 'answer' and 'reply'. Keep one."))
                rejectedIntents.insert(id)
                return nil
            case (nil, nil):
                issues.append(KnowledgeIssue(location,
                                             "intent '\(id)' has no 'answer' (an article id) or 'reply' (a short text)"))
                rejectedIntents.insert(id)
                return nil
            }
            var handoff = false
            if let node = fields["handoff"] {
                switch node.scalar?.string.lowercased() {
                case "true", "yes": handoff = true
                case "false", "no": handoff = false
                default:
                    issues.append(KnowledgeIssue(SourceLocation(file: path, line: fieldLines["handoff"]),
                                                 "'handoff' must be true or false"))
                }
            }
            return Intent(
                id: id, title: title, examples: examples, response: response,
                tags: fields["tags"].map { stringList($0, field: "tags", file: path) } ?? [],
                handoff: handoff,
                after: fields["after"].map { stringList($0, field: "after", file: path) } ?? [],
                suggest: fields["suggest"].map { stringList($0, field: "suggest", file: path) } ?? [],
                location: location)
        }

        mutating func checkReferences(intents: [Intent], articles: [String: Article]) {
            var seen: [String: SourceLocation] = [:]
            for intent in intents {
                if let first = seen[intent.id] {
                    issues.append(KnowledgeIssue(intent.location, "duplicate intent id '\(intent.id)' (first defined at \(first))"))
                } else {
                    seen[intent.id] = intent.location
                }
            }
            for intent in intents {
                if case .article(let articleID) = intent.response, articles[articleID] == nil,
                   !rejectedArticles.contains(articleID) {
                    let close = articles.keys.sorted().first { SpellingCorrector.distance($0, articleID) <= 2 }
                    issues.append(KnowledgeIssue(
                        intent.location,
                        "intent '\(intent.id)' answers with unknown article '\(articleID)': there is no file knowledge/\(articleID).md"
                            + (close.map { ". Did you mean '\($0)'?" } ?? "")))
                }
                for target in intent.after where seen[target] == nil && !rejectedIntents.contains(target) {
                    issues.append(KnowledgeIssue(intent.location,
                                                 "intent '\(intent.id)' has 'after: \(target)', but no intent has that id"))
                }
                for target in intent.suggest where seen[target] == nil && !rejectedIntents.contains(target) {
                    issues.append(KnowledgeIssue(intent.location,
                                                 "intent '\(intent.id)' suggests '\(target)', but no intent has that id"))
                }
            }
        }
    }
}

/// How much a knowledge base may hold, so a file written by mistake (or on purpose) is refused with a clear message
/// instead of taking the machine's memory or minutes of CPU.
public enum KnowledgeLimits {
    /// An intents, settings, synonyms or tests file.
    public static let maxYAMLBytes = 1 << 20
    /// An article (about 40,000 words).
    public static let maxArticleBytes = 256 << 10
    /// The text a YAML file may hold once its aliases (`*name`) are written out.
    public static let maxExpandedYAMLBytes = 4 << 20
    /// Examples of one intent (lint compares each with the others).
    public static let maxExamplesPerIntent = 1_000

    static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MB", Double(bytes) / Double(1 << 20)) : "\((bytes + 1023) / 1024) KB"
    }

    /// A YAML file that expands to more than `maxExpandedYAMLBytes`.
    struct TooMuchYAML: Error {
        var line: Int?
        var message: String
    }

    /// Composes YAML, refusing a document whose aliases would expand it past `maxExpandedYAMLBytes` (50,000 copies
    /// of one 5 KB example are 250 MB of text to read, check and learn).
    static func compose(_ text: String) throws -> Node? {
        guard let root = try Yams.compose(yaml: text) else { return nil }
        var budget = maxExpandedYAMLBytes
        if let line = overBudget(root, &budget) {
            throw TooMuchYAML(line: line, message: "this YAML repeats itself too much: written out, its aliases "
                + "(like *name) come to more than \(describe(maxExpandedYAMLBytes)) of text. Write the text out instead.")
        }
        return root
    }

    /// Spends each scalar's length from `budget`; the line where it ran out, or nil.
    private static func overBudget(_ node: Node, _ budget: inout Int) -> Int?? {
        switch node {
        case .scalar(let scalar):
            budget -= scalar.string.utf8.count + 1
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let line = overBudget(key, &budget) { return line }
                if let line = overBudget(value, &budget) { return line }
            }
        case .sequence(let sequence):
            for item in sequence {
                if let line = overBudget(item, &budget) { return line }
            }
        case .alias:
            budget -= 1
        }
        return budget < 0 ? .some(node.mark?.line) : nil
    }
}
