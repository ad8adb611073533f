import Foundation
import Testing
@testable import SupportBotCore

@Suite("Knowledge linter")
struct KnowledgeLinterTests {
    static let intents = """
        - id: refunds.status
          title: Where is my refund
          answer: refunds/status
          examples:
            - where is my refund
            - refund not here yet
            - when do i get my money back
            - how long does a refund take
            - refund still missing
            - is my refund late
        - id: refunds.late
          title: My refund is late
          answer: refunds/late
          examples:
            - my refund is late
            - where is my refund
            - the refund is taking ages
        - id: orders.track
          title: Track my order
          reply: Open the link in your e-mail to see where your parcel is.
          examples:
            - track my order
            - tracking my orders
            - where is the parcel
            - has it shipped
            - order tracking
        """

    static func knowledgeBase(extraFiles: [String: String] = [:]) throws -> KnowledgeBase {
        var files = [
            "intents/refunds.yml": intents,
            "knowledge/refunds/status.md": """
                ---
                title: Refund status
                ---
                We send refunds within five days.

                Notwithstanding the aforementioned stipulations, reimbursement eligibility necessitates comprehensive documentation of the circumstances.
                """,
            "knowledge/refunds/late.md": """
                ---
                title: Late refund
                ---
                Sorry it is late. Please allow approximately two more days for it to arrive in your account.
                If it is still not there by then, write to us with your order number and the date you sent the item back to us.
                """,
            "knowledge/unused.md": """
                ---
                title: Nobody asks
                ---
                This page is not used.
                """,
        ]
        files.merge(extraFiles) { $1 }
        return try KnowledgeLoader.load(files: files)
    }

    @Test("an answer that ends by offering more, with no `suggest:` topic for 'yes', is a warning at its intent")
    func offerWithoutSuggest() throws {
        func offerWarnings(suggest: String) throws -> [String] {
            let intents = Self.intents.replacingOccurrences(of: "  answer: refunds/status\n",
                                                            with: "  answer: refunds/status\n" + suggest)
            let knowledgeBase = try Self.knowledgeBase(extraFiles: [
                "intents/refunds.yml": intents,
                "knowledge/refunds/status.md": """
                    ---
                    title: Refund status
                    ---
                    We send refunds within five days. Just ask if you want to know what to do when it is late.
                    """,
            ])
            return KnowledgeLinter.lint(knowledgeBase).filter { $0.message.contains("ends with an offer") }
                .map(\.description)
        }
        let warnings = try offerWarnings(suggest: "")
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasPrefix("intents/refunds.yml:1: warning: the answer of refunds.status") == true,
                "\(warnings)")
        #expect(warnings.first?.contains("`suggest:`") == true)
        #expect(try offerWarnings(suggest: "  suggest: [refunds.late]\n").isEmpty)
    }

    @Test("a hard article is an error at the line of its hardest sentence, with the grade")
    func hardArticle() throws {
        let issues = KnowledgeLinter.lint(try Self.knowledgeBase())
        let grade = try #require(issues.first { $0.severity == .error && $0.location.file == "knowledge/refunds/status.md" })
        #expect(grade.location.line == 6)
        #expect(grade.message.hasPrefix("grade "))
        #expect(grade.message.contains("Notwithstanding"))
    }

    @Test("long sentences, hard words, unused articles and thin intents are warnings")
    func warnings() throws {
        let issues = KnowledgeLinter.lint(try Self.knowledgeBase())
        let warnings = issues.filter { $0.severity == .warning }.map(\.description)
        #expect(warnings.contains { $0.contains("knowledge/refunds/late.md:5") && $0.contains("sentence of 25 words") })
        #expect(warnings.contains { $0.contains("knowledge/refunds/late.md:4") && $0.contains("\"approximately\": say \"about\"") })
        #expect(warnings.contains { $0.hasPrefix("knowledge/unused.md") && $0.contains("no intent answers") })
        #expect(warnings.contains { $0.contains("refunds.late has 3 examples") })
        #expect(!warnings.contains { $0.contains("orders.track has") })
    }

    @Test("the same example in two intents is an error at its line; the same words reordered is a warning")
    func sharedExamples() throws {
        let issues = KnowledgeLinter.lint(try Self.knowledgeBase())
        let duplicate = try #require(issues.first { $0.message.contains("is also an example of refunds.status") })
        #expect(duplicate.severity == .error)
        #expect(duplicate.location == SourceLocation(file: "intents/refunds.yml", line: 16))
        let sameWords = try #require(issues.first { $0.message.contains("same words to the matcher") })
        #expect(sameWords.severity == .warning)
        #expect(sameWords.message.contains("\"my refund is late\" and \"is my refund late\" (refunds.status)"))
        #expect(sameWords.location == SourceLocation(file: "intents/refunds.yml", line: 15))
    }

    @Test("a _jargon.yml replaces the starter list")
    func customJargon() throws {
        let kb = try Self.knowledgeBase(extraFiles: ["knowledge/_jargon.yml": "allow: let\n"])
        let messages = KnowledgeLinter.lint(kb).map(\.message)
        #expect(messages.contains("hard word \"allow\": say \"let\" instead"))
        #expect(!messages.contains { $0.contains("\"approximately\"") })
    }

    @Test("lint settings change the limits; bad ones are reported at their line")
    func settings() throws {
        #expect(throws: KnowledgeBaseError.self) {
            try Self.knowledgeBase(extraFiles: ["knowledge/_settings.yml": "lint:\n  max_grade: 40\n"])
        }
        do {
            _ = try Self.knowledgeBase(extraFiles: ["knowledge/_settings.yml": "lint:\n  max_grade: 12\n  colour: 3\n"])
            Issue.record("an unknown lint setting must be refused")
        } catch let error as KnowledgeBaseError {
            #expect(error.description.contains("knowledge/_settings.yml:3"))
            #expect(error.description.contains("unknown setting lint.colour"))
        }
        let relaxed = try Self.knowledgeBase(extraFiles: ["knowledge/_settings.yml": "lint:\n  max_grade: 20\n  min_examples: 2\n"])
        let issues = KnowledgeLinter.lint(relaxed)
        #expect(!issues.contains { $0.message.hasPrefix("grade ") })
        #expect(!issues.contains { $0.message.contains("refunds.late has 3 examples") })
    }

    @Test("the demo knowledge base has no lint errors or warnings")
    func demoIsClean() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let kb = try KnowledgeLoader.load(intentsDirectory: root.appendingPathComponent("intents").path,
                                          knowledgeDirectory: root.appendingPathComponent("knowledge").path)
        let issues = KnowledgeLinter.lint(kb)
        #expect(issues.isEmpty, "\(issues.map(\.description))")
    }
}

@Suite("The hardest sentence lint names")
struct HardestSentenceTests {
    @Test("it is a whole sentence, with its e-mail address and numbers, not a piece of one (D11)")
    func wholeSentenceWithAddress() {
        let text = "We are in the shop Tuesday to Sunday, from ten in the morning. "
            + "Phone 0800 123 4567 or e-mail help@pebbleandpine.example. Come and say hi."
        #expect(KnowledgeLinter.hardestSentence(of: text) == "Phone 0800 123 4567 or e-mail help@pebbleandpine.example.")
        #expect(KnowledgeLinter.wholeSentences(of: "It weighs 4.5 kg. Really! Ok") == ["It weighs 4.5 kg.", "Really!", "Ok"])
    }
}
