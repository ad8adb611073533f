import ArgumentParser
import Foundation
import SupportBotCore

struct KB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb",
        abstract: "Tools for content writers: check the knowledge files before customers see them.",
        subcommands: [Lint.self, Test.self])

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

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the conversation tests in intents/tests/*.yml against the knowledge base. Exit code 1 on a failure.")

        @OptionGroup var knowledge: KnowledgeOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let knowledgeBase = try knowledge.loadKnowledgeBase()
            let (tests, issues) = ConversationTests.parse(knowledgeBase)
            guard issues.isEmpty else {
                throw UserFacingError(KnowledgeBaseError(issues: issues).description)
            }
            guard !tests.isEmpty else {
                throw UserFacingError("No conversation tests found. Write some in \(knowledge.intents)/tests/*.yml "
                    + "(see docs/writing-guide.md).")
            }
            let engine = SupportEngine(knowledgeBase: knowledgeBase, version: 0)
            let failures = ConversationTests.run(tests, engine: engine)
            let steps = tests.reduce(0) { $0 + $1.steps.count }
            let failedTests = Set(failures.map(\.test)).count
            if json {
                let object: [String: Any] = [
                    "tests": tests.count, "steps": steps, "failed_tests": failedTests,
                    "failures": failures.map {
                        ["test": $0.test, "step": $0.step, "file": $0.location.file, "line": $0.location.line as Any,
                         "input": $0.input, "problems": $0.problems, "actual": $0.actual, "candidates": $0.candidates]
                    },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for failure in failures {
                    print("\(failure.location): \"\(failure.test)\", step \(failure.step): \(failure.input)")
                    for problem in failure.problems { print("  \(problem)") }
                    print("  the bot: \(failure.actual)")
                    if !failure.candidates.isEmpty { print("  candidates: \(failure.candidates.joined(separator: ", "))") }
                }
                print("\(tests.count) tests, \(steps) steps: "
                    + (failures.isEmpty ? "all passed." : "\(failedTests) test\(failedTests == 1 ? "" : "s") failed."))
            }
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }
}
