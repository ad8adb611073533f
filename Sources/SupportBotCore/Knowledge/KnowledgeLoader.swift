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

    /// Reads one knowledge base's files; one part per kind of file (`KnowledgeLoader+Settings.swift`,
    /// `+Articles.swift`, `+Intents.swift`).
    struct Parser {
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
    }
}
