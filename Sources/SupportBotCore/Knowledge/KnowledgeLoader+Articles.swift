import Foundation
import Yams

// Articles (knowledge/**/*.md): front matter, text, and the placeholders in it.

extension KnowledgeLoader.Parser {
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

}
