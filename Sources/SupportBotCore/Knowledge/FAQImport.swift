import Foundation

/// Turns a spreadsheet of questions and answers (`question,answer` columns; any other columns hold more ways to
/// ask) into an intents file and one article per answer, for a writer to check with `kb lint` and edit.
public enum FAQImport {
    public struct Result: Sendable {
        /// Relative path (`intents/NAME.yml`, `knowledge/NAME/…md`): content.
        public var files: [String: String]
        public var intents: Int
        public var skipped: [String]
    }

    public static func make(csv content: String, file: String, name: String) throws -> Result {
        let rows = try LabelledCSV.records(content, file: file)
        guard let header = rows.first else { throw CSVError(description: "\(file): the file is empty") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let questionColumn = names.firstIndex(of: "question"), let answerColumn = names.firstIndex(of: "answer") else {
            throw CSVError(description: "\(file):1: the header must name a 'question' and an 'answer' column, "
                + "like: question,answer,other ways to ask")
        }
        var files: [String: String] = [:]
        var intentsYAML = "# Imported from \(file). Check with `supportbot kb lint`, then add more ways to ask.\n"
        var used = Set<String>()
        var skipped: [String] = []
        var count = 0
        for (index, row) in rows.dropFirst().enumerated() {
            let cells = row.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            let question = questionColumn < cells.count ? cells[questionColumn] : ""
            let answer = answerColumn < cells.count ? cells[answerColumn] : ""
            guard !question.isEmpty, !answer.isEmpty else {
                if cells.contains(where: { !$0.isEmpty }) {
                    skipped.append("\(file):\(index + 2): no question or no answer; row skipped")
                }
                continue
            }
            var slug = slugify(question)
            var suffix = 2
            while used.contains(slug) {
                slug = slugify(question) + "-\(suffix)"
                suffix += 1
            }
            used.insert(slug)
            let variants = cells.enumerated().filter { $0.offset != questionColumn && $0.offset != answerColumn && !$0.element.isEmpty }
                .map(\.element)
            let title = question.count > 60 ? String(question.prefix(57)) + "…" : question
            files["knowledge/\(name)/\(slug).md"] = "---\ntitle: \(quoted(title))\n---\n\(answer)\n"
            intentsYAML += "\n- id: \(name).\(slug.replacingOccurrences(of: "-", with: "_"))\n"
                + "  title: \(quoted(title))\n  answer: \(name)/\(slug)\n  examples:\n"
                + ([question] + variants).map { "    - \(quoted($0))\n" }.joined()
            count += 1
        }
        files["intents/\(name).yml"] = intentsYAML
        return Result(files: files, intents: count, skipped: skipped)
    }

    /// Up to six lower-case words joined by "-".
    static func slugify(_ text: String) -> String {
        let words = TextNormalizer.tokens(text).filter { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
        let slug = words.prefix(6).joined(separator: "-")
        return slug.isEmpty ? "question" : slug
    }

    /// A YAML double-quoted string (JSON string syntax is valid YAML).
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data()
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
