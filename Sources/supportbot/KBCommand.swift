import ArgumentParser
import Foundation
import SupportBotCore
import SupportBotStore

struct KB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb",
        abstract: "Tools for content writers: check the knowledge files before customers see them.",
        subcommands: [Lint.self, Test.self, Publish.self, Versions.self, Diff.self, Rollback.self, Export.self,
                      Unanswered.self, Import.self])

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check readability (grade 6 by default), long sentences, hard words, unused articles, thin "
                + "intents and examples two intents share. Exit code 1 on errors.")

        @OptionGroup var knowledge: KnowledgeOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let knowledgeBase = try knowledge.loadKnowledgeBase()
            let engine = try knowledge.loadEngine()
            let issues = KnowledgeLinter.lint(knowledgeBase) + KnowledgeLinter.examplesNotAnswered(by: engine)
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
                try JSONOutput.print(object)
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
            let engine = LearningFolder.engine(for: knowledgeBase, version: 0)
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
                try JSONOutput.print(object)
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

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the files (lint and conversation tests) and store them as a new version the server swaps in.")

        @OptionGroup var knowledge: KnowledgeOptions
        @OptionGroup var database: DatabaseOptions

        @Option(name: .shortAndLong, help: "What changed, in a few words.")
        var message: String

        @Option(help: "Who publishes (default: the USER environment variable).")
        var author: String?

        @Flag(help: "Publish files that a rollback took back (the files of a version that was rolled back from).")
        var again = false

        func run() async throws {
            let knowledgeBase = try knowledge.loadKnowledgeBase()
            let problems = KnowledgePublisher.blockers(LearningFolder.engine(for: knowledgeBase, version: 0))
            guard problems.isEmpty else {
                throw UserFacingError("Not published: \(problems.count) problem\(problems.count == 1 ? "" : "s") to fix first.\n"
                    + problems.joined(separator: "\n"))
            }
            let db = try database.open(mustExist: false)
            if !again, let undone = try await KnowledgePublisher.undoneRollback(of: knowledgeBase.files, in: db) {
                let shown = undone.paths.prefix(10).map { "  " + $0 }
                    + (undone.paths.count > 10 ? ["  … and \(undone.paths.count - 10) more"] : [])
                throw UserFacingError("""
                    Not published: version \(undone.rollback) rolled back version \(undone.undone) (to version \(undone.target)), \
                    but these files bring back what it took out. They are as in version \(undone.undone):
                    \(shown.joined(separator: "\n"))
                    Your folder still holds version \(undone.undone)'s files. To start from the live files, run:
                      supportbot kb export \(undone.rollback) <folder with intents/ and knowledge/> --replace
                    then make your change again. To publish these files as they are, run again with --again.
                    """)
            }
            let (version, isNew) = try await KnowledgePublisher.store(knowledgeBase, in: db, author: KB.author(author),
                                                                        message: message, at: Date())
            if !isNew {
                print("Nothing changed since version \(version.number); nothing published.")
            } else {
                print("Published version \(version.number): \(message). A running server swaps it in within 2 seconds.")
            }
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the published versions, newest first.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let versions = try await database.openForReading().knowledgeVersions()
            if versions.isEmpty { print("No versions yet. Publish with: supportbot kb publish -m \"first version\"") }
            let formatter = ISO8601DateFormatter()
            for version in versions.reversed() {
                print("v\(version.number)  \(formatter.string(from: version.createdAt))  \(version.author)  "
                    + "\(version.message)  (\(version.contentHash.prefix(12)))")
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what changed between two versions, file by file.")

        @Argument(help: "The older version number.")
        var from: Int

        @Argument(help: "The newer version number.")
        var to: Int

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let db = try database.openForReading()
            let old = try await KB.files(of: from, in: db)
            let new = try await KB.files(of: to, in: db)
            var printed = false
            for path in Set(old.keys).union(new.keys).sorted() {
                let diff = UnifiedDiff.file(path, old: old[path], new: new[path])
                if !diff.isEmpty {
                    print(diff, terminator: "")
                    printed = true
                }
            }
            if !printed { print("Versions \(from) and \(to) have the same files.") }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish an older version's files again, as a new version (nothing is deleted).")

        @Argument(help: "The version to go back to.")
        var version: Int

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Who rolls back (default: the USER environment variable).")
        var author: String?

        func run() async throws {
            let db = try database.open(mustExist: true)
            let files = try await KB.files(of: version, in: db)
            let knowledgeBase: KnowledgeBase
            do {
                knowledgeBase = try KnowledgeLoader.load(files: files)
            } catch let error as KnowledgeBaseError {
                throw UserFacingError("Version \(version) no longer loads: \(error.description)")
            }
            let problems = KnowledgePublisher.blockers(LearningFolder.engine(for: knowledgeBase, version: 0))
            guard problems.isEmpty else {
                throw UserFacingError("Not rolled back: version \(version) no longer passes the checks:\n"
                    + problems.joined(separator: "\n"))
            }
            let (published, isNew) = try await KnowledgePublisher.store(
                knowledgeBase, in: db, author: KB.author(author),
                message: KnowledgePublisher.rollbackMessage(to: version), at: Date())
            if !isNew {
                print("Version \(published.number) already has the files of version \(version); nothing to do.")
            } else {
                print("Published version \(published.number) with the files of version \(version).")
                print("Your knowledge files on disk still hold what you had. To edit from version \(version)'s files, "
                    + "write them into your folder first: supportbot kb export \(published.number) <folder> --replace")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a version's files into a folder.")

        @Argument(help: "The version number.")
        var version: Int

        @Argument(help: "The folder to write intents/ and knowledge/ into (created if missing).")
        var folder: String

        @Flag(help: "Delete the knowledge files in the folder that the version doesn't have, so the folder matches it.")
        var replace = false

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let files = try await KB.files(of: version, in: try database.openForReading())
            let root = URL(fileURLWithPath: folder)
            // Files the version doesn't have would be loaded and published with it: the folder would not be it.
            let existing = KnowledgeFiles.paths(intentsDirectory: root.appendingPathComponent("intents").path,
                                                knowledgeDirectory: root.appendingPathComponent("knowledge").path)
            let extra = existing.keys.filter { files[$0] == nil }.sorted()
            if !extra.isEmpty && !replace {
                throw UserFacingError("""
                    \(folder) has \(Self.count(extra.count)) that version \(version) doesn't have:
                    \(Self.list(extra))
                    They would be loaded and published along with it. Nothing was written.
                    To make the folder match version \(version) (those files are deleted), run again with --replace.
                    Or export into an empty folder.
                    """)
            }
            for (path, content) in files.sorted(by: { $0.key < $1.key }) {
                let url = root.appendingPathComponent(path)
                do {
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                            withIntermediateDirectories: true)
                    try content.write(to: url, atomically: true, encoding: .utf8)
                } catch {
                    throw UserFacingError("Can't write \(url.path): \(error.localizedDescription)")
                }
            }
            for key in extra {
                guard let url = existing[key] else { continue }
                do {
                    try FileManager.default.removeItem(at: url)
                } catch {
                    throw UserFacingError("Wrote version \(version), but can't delete \(url.path), which it doesn't "
                                          + "have: \(error.localizedDescription). Delete it by hand.")
                }
            }
            print("Wrote \(files.count) files of version \(version) to \(folder).")
            if !extra.isEmpty {
                print("Deleted \(Self.count(extra.count)) that version \(version) doesn't have:\n\(Self.list(extra))")
            }
        }

        private static func count(_ n: Int) -> String { n == 1 ? "1 knowledge file" : "\(n) knowledge files" }

        /// One indented line per file, at most 10, then how many more.
        private static func list(_ keys: [String]) -> String {
            let shown = keys.prefix(10).map { "  " + $0 }
            return (shown + (keys.count > 10 ? ["  … and \(keys.count - 10) more"] : [])).joined(separator: "\n")
        }
    }

    /// The message a rollback stores (`undoneRollback` reads it back).
    /// Who publishes: the --author given, else the USER environment variable.
    static func author(_ given: String?) -> String { given ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown" }

    static func files(of version: Int, in db: SupportBotDatabase) async throws -> [String: String] {
        do {
            return try await db.knowledgeFiles(version: version)
        } catch StoreError.unknownKnowledgeVersion {
            throw UserFacingError("There is no version \(version). See the versions with: supportbot kb versions")
        }
    }

    struct Unanswered: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Customer messages the bot could not answer (fallback, \"Did you mean…?\", handoff), grouped, newest first.")

        @OptionGroup var knowledge: KnowledgeOptions
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Only messages from this far back: 24h, 7d, or a date like 2026-11-01.")
        var since: String?

        @Option(help: "How many groups to show.")
        var limit: Int = 30

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1.") }
            if let since, Self.date(since, now: Date()) == nil {
                throw ValidationError("--since must look like 24h, 7d or 2026-11-01.")
            }
        }

        static func date(_ text: String, now: Date) -> Date? {
            if let number = Double(text.dropLast()), number > 0 {
                switch text.last {
                case "h": return now.addingTimeInterval(-number * 3600)
                case "d": return now.addingTimeInterval(-number * 86_400)
                default: break
                }
            }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd"
            return formatter.date(from: text)
        }

        func run() async throws {
            let db = try database.openForReading()
            let messages = try await db.unansweredMessages(since: since.flatMap { Self.date($0, now: Date()) })
            // The knowledge base's synonyms help group wordings; without it, words are grouped as written.
            let synonyms = (try? knowledge.loadKnowledgeBase())?.synonyms ?? Synonyms()
            let groups = UnansweredGroups.group(messages.map { ($0.text, $0.sessionID, $0.outcome) },
                                                analyzer: TextAnalyzer(synonyms: synonyms, speller: nil))
            if json {
                let object: [String: Any] = [
                    "messages": messages.count,
                    "groups": groups.prefix(limit).map {
                        ["example": $0.example, "session": $0.session, "count": $0.count, "outcomes": $0.outcomes,
                         "variants": $0.variants]
                    },
                ]
                try JSONOutput.print(object)
                return
            }
            if groups.isEmpty {
                print("Nothing unanswered" + (since.map { " since \($0)" } ?? "") + ". Well done!")
                return
            }
            print("\(messages.count) unanswered messages in \(groups.count) groups (newest first):")
            for group in groups.prefix(limit) {
                let outcomes = group.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", ")
                print("\(group.count)×  \"\(group.example)\"  (\(outcomes); e.g. supportbot transcript \(group.session))")
                for variant in group.variants { print("      also: \"\(variant)\"") }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create intents and articles from a spreadsheet of questions and answers (CSV: question,answer; "
                + "more columns hold other ways to ask), then lint them.")

        @Argument(help: "The CSV file (UTF-8, with a header).")
        var file: String

        @Option(help: "Name for the new intents file and article folder (intents/NAME.yml, knowledge/NAME/).")
        var name: String = "faq"

        @OptionGroup var knowledge: KnowledgeOptions

        func validate() throws {
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
                throw ValidationError("--name must be lower-case letters, digits or '-', like faq or faq-2.")
            }
        }

        func run() throws {
            guard let content = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw UserFacingError("Can't read \(file). Pass a UTF-8 CSV file with a header question,answer.")
            }
            let result: FAQImport.Result
            do {
                result = try FAQImport.make(csv: content, file: file, name: name)
            } catch let error as CSVError {
                throw UserFacingError(error.description)
            }
            guard result.intents > 0 else { throw UserFacingError("\(file) has no rows with both a question and an answer.") }
            let targets = result.files.keys.map { path -> String in
                path.hasPrefix("intents/") ? knowledge.intents + "/" + path.dropFirst("intents/".count)
                    : knowledge.knowledge + "/" + path.dropFirst("knowledge/".count)
            }
            let intentsFile = knowledge.intents + "/\(name).yml"
            let folder = knowledge.knowledge + "/\(name)"
            if FileManager.default.fileExists(atPath: intentsFile) || FileManager.default.fileExists(atPath: folder) {
                throw UserFacingError("\(intentsFile) or \(folder)/ already exists. Pick another --name, "
                    + "or move the old files away first.")
            }
            for (path, target) in zip(result.files.keys, targets) {
                let url = URL(fileURLWithPath: target)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try result.files[path]!.write(to: url, atomically: true, encoding: .utf8)
            }
            for line in result.skipped { print(line) }
            print("Imported \(result.intents) questions into \(intentsFile) and \(folder)/.")
            do {
                let issues = KnowledgeLinter.lint(try KnowledgeLoader.load(intentsDirectory: knowledge.intents,
                                                                           knowledgeDirectory: knowledge.knowledge))
                    .filter { $0.location.file.contains("/\(name)") }
                if issues.isEmpty {
                    print("Lint found nothing to fix in them. Add more ways to ask, then: supportbot kb publish -m \"…\"")
                } else {
                    print("Now fix these (supportbot kb lint shows them again):")
                    for issue in issues { print(issue.description) }
                }
            } catch let error as KnowledgeBaseError {
                // The files are written, but nothing that reads the knowledge base works until they are fixed.
                throw UserFacingError("The imported files are written, but they need fixing before the knowledge base "
                    + "loads:\n\(error.description)")
            }
        }
    }
}
