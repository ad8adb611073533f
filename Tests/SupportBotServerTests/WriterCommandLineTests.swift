import Foundation
import Testing

@Suite("supportbot kb lint and readability", .timeLimit(.minutes(10)))
struct WriterCommandLineTests {
    @Test("kb import exits non-zero when the knowledge base does not load after it (D11)")
    func importIntoABrokenKnowledgeBaseFails() async throws {
        let folder = try TemporaryDirectory()
        try folder.write("kb/intents/broken.yml", "- id: broken\n  title: [unclosed\n")
        try folder.write("kb/knowledge/_settings.yml", "shop_name: Test Shop\n")
        try folder.write("faq.csv", "question,answer\nDo you ship to Spain?,Yes. We ship to every country in Europe.\n")
        let result = try await SupportBotCLI.run(["kb", "import", folder.path("faq.csv"), "--intents",
                                                  folder.path("kb/intents"), "--knowledge", folder.path("kb/knowledge")],
                                                 folder: folder)
        #expect(result.exitedNormally && result.status != 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("need fixing before the knowledge base loads"), "\(result.stderr)")
        #expect(result.stderr.contains("intents/broken.yml"), "\(result.stderr)")
        // The imported files are there to fix.
        #expect(FileManager.default.fileExists(atPath: folder.path("kb/intents/faq.yml")))
    }

    @Test("kb lint passes the demo shop with no errors")
    func demoPasses() async throws {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(["kb", "lint"], folder: folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("0 errors"))
    }

    @Test("kb lint reports a hard answer like a compiler and exits 1")
    func hardAnswerFails() async throws {
        let folder = try TemporaryDirectory()
        try folder.write("kb/intents/shop.yml", """
            - id: refunds.status
              title: Where is my refund
              answer: refunds/status
              examples: [where is my refund, refund not here, when is my money back, refund status, refund missing]
            """)
        try folder.write("kb/knowledge/refunds/status.md", """
            ---
            title: Refund status
            ---
            Reimbursement eligibility necessitates comprehensive documentation of the circumstances.
            """)
        let result = try await SupportBotCLI.run(["kb", "lint", "--intents", folder.path("kb/intents"),
                                                  "--knowledge", folder.path("kb/knowledge"), "--json"], folder: folder)
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["errors"] as? Int == 1)
        let issues = try #require(object["issues"] as? [[String: Any]])
        let grade = try #require(issues.first { ($0["message"] as? String ?? "").hasPrefix("grade ") })
        #expect(grade["file"] as? String == "knowledge/refunds/status.md")
        #expect(grade["line"] as? Int == 4)

        let text = try await SupportBotCLI.run(["kb", "lint", "--intents", folder.path("kb/intents"),
                                                "--knowledge", folder.path("kb/knowledge")], folder: folder)
        #expect(text.stdout.contains("knowledge/refunds/status.md:4: error: grade "))
    }

    @Test("readability prints the grade and counts of a file, as textstat does")
    func readability() async throws {
        let folder = try TemporaryDirectory()
        try folder.write("draft.txt", "Don't worry, it's fine. We'll help you today!")
        let result = try await SupportBotCLI.run(["readability", folder.path("draft.txt")], folder: folder)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("grade 1.3  (8 words, 2 sentences, 10 syllables)"))
        let missing = try await SupportBotCLI.run(["readability", folder.path("none.txt")], folder: folder)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("Can't read"))
    }
}
