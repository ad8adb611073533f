import Testing
@testable import SupportBotCore

@Suite("Importing a FAQ spreadsheet")
struct FAQImportTests {
    @Test("each row becomes an intent with its variants and an article; the result loads and lint can check it")
    func importRows() throws {
        let csv = """
            question,answer,also asked as
            Do you sell bicycles?,"No, we sell tents, clothes and camping gear.",have you got bikes
            Do you sell bicycles?,Second copy of the same question.,
            ,an answer without a question,
            """
        let result = try FAQImport.make(csv: csv, file: "faq.csv", name: "faq")
        #expect(result.intents == 2)
        #expect(result.skipped == ["faq.csv:4: no question or no answer; row skipped"])
        #expect(result.files["knowledge/faq/do-you-sell-bicycles.md"] == "---\ntitle: \"Do you sell bicycles?\"\n---\nNo, we sell tents, clothes and camping gear.\n")
        #expect(result.files["knowledge/faq/do-you-sell-bicycles-2.md"] != nil)
        let intents = try #require(result.files["intents/faq.yml"])
        #expect(intents.contains("- id: faq.do_you_sell_bicycles\n"))
        #expect(intents.contains("    - \"have you got bikes\"\n"))
        let kb = try KnowledgeLoader.load(files: result.files)
        #expect(kb.intents.count == 2)
        #expect(KnowledgeLinter.lint(kb).contains { $0.message.contains("faq.do_you_sell_bicycles has 2 examples") })
    }

    @Test("a header without question and answer columns is refused with its line")
    func badHeader() {
        #expect(throws: CSVError.self) { try FAQImport.make(csv: "q,a\nx,y\n", file: "f.csv", name: "faq") }
    }
}
