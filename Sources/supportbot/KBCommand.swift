import ArgumentParser
import Foundation
import SupportBotCore

struct KB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb",
        abstract: "Tools for content writers: check the knowledge files before customers see them.",
        subcommands: [Lint.self])

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check readability (grade 6 by default), long sentences, hard words, unused articles, thin "
                + "intents and examples two intents share. Exit code 1 on errors.")

        @OptionGroup var knowledge: KnowledgeOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let knowledgeBase = try knowledge.loadKnowledgeBase()
            let issues = KnowledgeLinter.lint(knowledgeBase)
            let errors = issues.filter { $0.severity == .error }.count
            let warnings = issues.count - errors
            if json {
                let object: [String: Any] = [
                    "errors": errors, "warnings": warnings,
                    "issues": issues.map {
                        ["severity": $0.severity.rawValue, "file": $0.location.file, "line": $0.location.line as Any,
                         "message": $0.message]
                    },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for issue in issues { print(issue.description) }
                let articles = knowledgeBase.articles.count
                print("\(knowledgeBase.intents.count) intents, \(articles) articles checked: "
                    + "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s").")
            }
            if errors > 0 { throw ExitCode(1) }
        }
    }
}
