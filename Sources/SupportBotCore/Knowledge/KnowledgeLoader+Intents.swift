import Foundation
import Yams

// Intents (intents/*.yml) and the references between intents and articles.

extension KnowledgeLoader.Parser {
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
