import Foundation
import Testing
@testable import SupportBotCore

/// A small, valid set of knowledge files; each error test breaks one thing in it.
enum SampleFiles {
    static let settings = """
        shop_name: Pebble & Pine
        email: help@pebble.example
        return_days: "30"
        matching:
          answer_threshold: 0.5
          max_options: 4
        """

    static let synonyms = """
        parcel: [package, packet]
        refund: reimbursement
        """

    static let orders = """
        - id: orders.track
          title: Track my order
          answer: orders/track
          tags: [orders]
          suggest: [orders.late]
          examples:
            - where is my order
            - track my parcel
        - id: orders.late
          title: My order is late
          answer: orders/late
          examples: [my order is late, my parcel has not arrived]
        """

    static let returns = """
        - id: returns.start
          title: Start a return
          answer: returns/start
          examples:
            - i want to return an item
        - id: returns.how_long
          title: How long a return takes
          answer: returns/start
          after: returns.start
          examples:
            - how long does it take
        - id: smalltalk.hello
          title: Say hello
          reply: Hi! Welcome to {{shop_name}}.
          examples: [hello, hi there]
        - id: contact.human
          title: Talk to a person
          reply: I will get a person for you.
          handoff: true
          examples: [talk to a person]
        """

    static let track = """
        ---
        title: Track your order
        tags: [orders, tracking]
        ---

        Open the link in your {{shop_name}} e-mail to see where your parcel is.

        It can take a day to show.
        """

    static let late = """
        ---
        title: Late orders
        ---
        Most orders arrive on time. Write to {{email}} if yours is late.
        """

    static let returnStart = """
        ---
        title: Start a return
        ---
        You have {{return_days}} days to send it back.
        """

    static var all: [String: String] {
        [
            "knowledge/_settings.yml": settings,
            "intents/_synonyms.yml": synonyms,
            "intents/orders.yml": orders,
            "intents/returns.yml": returns,
            "knowledge/orders/track.md": track,
            "knowledge/orders/late.md": late,
            "knowledge/returns/start.md": returnStart,
        ]
    }

    /// The sample files with some replaced (or removed, when the new content is nil).
    static func with(_ changes: [String: String?]) -> [String: String] {
        var files = all
        for (path, content) in changes { files[path] = content }
        return files
    }
}

/// Loads files that must fail and returns the reported issues (records a failure when loading succeeds).
func loadIssues(_ files: [String: String], sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [KnowledgeIssue] {
    do {
        _ = try KnowledgeLoader.load(files: files)
        Issue.record("expected the knowledge base to fail loading", sourceLocation: sourceLocation)
        return []
    } catch let error as KnowledgeBaseError {
        return error.issues
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        return []
    }
}

@Suite("KnowledgeLoader: a valid knowledge base")
struct KnowledgeLoaderValidTests {
    let kb: KnowledgeBase

    init() throws {
        kb = try KnowledgeLoader.load(files: SampleFiles.all)
    }

    @Test("intents are loaded in file order with all their fields")
    func intents() throws {
        #expect(kb.intents.map(\.id) == [
            "orders.track", "orders.late", "returns.start", "returns.how_long", "smalltalk.hello", "contact.human",
        ])
        let track = try #require(kb.intent("orders.track"))
        #expect(track.title == "Track my order")
        #expect(track.examples == ["where is my order", "track my parcel"])
        #expect(track.response == .article(id: "orders/track"))
        #expect(track.tags == ["orders"])
        #expect(track.suggest == ["orders.late"])
        #expect(track.after == [])
        #expect(track.handoff == false)
        #expect(track.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 1))
        #expect(kb.intent("orders.late")?.location.line == 9)
        #expect(kb.intent("orders.late")?.examples == ["my order is late", "my parcel has not arrived"])
        #expect(kb.intent("returns.how_long")?.after == ["returns.start"])
        #expect(kb.intent("contact.human")?.handoff == true)
        #expect(kb.intent("no.such.intent") == nil)
    }

    @Test("article ids come from their path under knowledge/")
    func articles() throws {
        #expect(kb.articles.keys.sorted() == ["orders/late", "orders/track", "returns/start"])
        let track = try #require(kb.articles["orders/track"])
        #expect(track.id == "orders/track")
        #expect(track.title == "Track your order")
        #expect(track.tags == ["orders", "tracking"])
        #expect(track.bodyLine == 6)
        #expect(track.location == SupportBotCore.SourceLocation(file: "knowledge/orders/track.md", line: 1))
    }

    @Test("placeholders are filled from knowledge/_settings.yml")
    func placeholders() throws {
        #expect(kb.articles["orders/track"]?.body
            == "Open the link in your Pebble & Pine e-mail to see where your parcel is.\n\nIt can take a day to show.")
        #expect(kb.articles["orders/late"]?.body == "Most orders arrive on time. Write to help@pebble.example if yours is late.")
        #expect(kb.articles["returns/start"]?.body == "You have 30 days to send it back.")
        let hello = try #require(kb.intent("smalltalk.hello"))
        #expect(hello.response == .reply("Hi! Welcome to Pebble & Pine."))
        #expect(kb.answerText(for: hello) == "Hi! Welcome to Pebble & Pine.")
        #expect(kb.answerText(for: try #require(kb.intent("returns.start"))) == "You have 30 days to send it back.")
        #expect(kb.settings["shop_name"] == "Pebble & Pine")
        #expect(kb.settings["return_days"] == "30")
        #expect(kb.settings["matching"] == nil)
    }

    @Test("synonyms come from intents/_synonyms.yml, which is not an intents file")
    func synonyms() {
        #expect(kb.synonyms.canonical(for: "package") == "parcel")
        #expect(kb.synonyms.canonical(for: "packet") == "parcel")
        #expect(kb.synonyms.canonical(for: "reimbursement") == "refund")
        #expect(kb.synonyms.canonical(for: "parcel") == nil)
        #expect(kb.synonyms.allWords == ["parcel", "package", "packet", "refund", "reimbursement"])
    }

    @Test("matching: overrides change only the named thresholds")
    func matchingOverrides() {
        var expected = MatchingConfig()
        expected.answerThreshold = 0.5
        expected.maxOptions = 4
        #expect(kb.matching == expected)
    }

    @Test("the raw files are kept, and the content hash depends on them")
    func filesAndHash() throws {
        #expect(kb.files == SampleFiles.all)
        let again = try KnowledgeLoader.load(files: SampleFiles.all)
        #expect(again.contentHash == kb.contentHash)
        #expect(kb.contentHash.count == 64)
        let changed = try KnowledgeLoader.load(files: SampleFiles.with(["knowledge/orders/late.md": SampleFiles.late + "\nMore."]))
        #expect(changed.contentHash != kb.contentHash)
    }

    @Test("files outside the known places are ignored")
    func ignoredFiles() throws {
        let kb = try KnowledgeLoader.load(files: SampleFiles.with([
            "intents/tests/conversations.yml": "this: is not an intents file",
            "knowledge/_jargon.yml": "refund: money back",
            "knowledge/_draft.md": "no front matter at all",
            "README.md": "# readme",
        ]))
        #expect(kb.intents.count == 6)
        #expect(kb.articles.count == 3)
    }

    @Test("a knowledge base without settings or synonyms still loads")
    func minimal() throws {
        let kb = try KnowledgeLoader.load(files: [
            "intents/hello.yml": "- id: hello\n  title: Say hello\n  reply: Hi!\n  examples: [hello]\n",
        ])
        #expect(kb.intents.map(\.id) == ["hello"])
        #expect(kb.settings.isEmpty)
        #expect(kb.synonyms == Synonyms())
        #expect(kb.matching == MatchingConfig())
    }
}

@Suite("KnowledgeLoader: every problem has one message with file and line")
struct KnowledgeLoaderErrorTests {
    func single(_ changes: [String: String?], sourceLocation: Testing.SourceLocation = #_sourceLocation) -> KnowledgeIssue? {
        let issues = loadIssues(SampleFiles.with(changes), sourceLocation: sourceLocation)
        #expect(issues.count == 1, "\(issues)", sourceLocation: sourceLocation)
        return issues.first
    }

    @Test("unknown answer id, with a hint when an article id is close")
    func unknownAnswerWithHint() throws {
        let orders = SampleFiles.orders.replacingOccurrences(of: "answer: orders/late", with: "answer: orders/lat")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 9))
        #expect(issue.message.contains("unknown article 'orders/lat'"))
        #expect(issue.message.contains("knowledge/orders/lat.md"))
        #expect(issue.message.hasSuffix("Did you mean 'orders/late'?"))
        #expect(issue.description.hasPrefix("intents/orders.yml:9: intent 'orders.late' answers with unknown article"))
    }

    @Test("unknown answer id without a close article gets no hint")
    func unknownAnswerWithoutHint() throws {
        let orders = SampleFiles.orders.replacingOccurrences(of: "answer: orders/late", with: "answer: billing/invoices")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 9))
        #expect(issue.message.contains("unknown article 'billing/invoices'"))
        #expect(!issue.message.contains("Did you mean"))
    }

    @Test("duplicate intent id points at the second one and names the first")
    func duplicateIntent() throws {
        let returns = SampleFiles.returns.replacingOccurrences(of: "id: smalltalk.hello", with: "id: orders.track")
        let issue = try #require(single(["intents/returns.yml": returns]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 12))
        #expect(issue.message == "duplicate intent id 'orders.track' (first defined at intents/orders.yml:1)")
    }

    @Test("duplicate intent id in the same file")
    func duplicateIntentSameFile() throws {
        let orders = SampleFiles.orders.replacingOccurrences(of: "id: orders.late", with: "id: orders.track")
            .replacingOccurrences(of: "suggest: [orders.late]", with: "suggest: []")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 9))
        #expect(issue.message.contains("(first defined at intents/orders.yml:1)"))
    }

    @Test("empty examples list is reported at the examples line")
    func emptyExamples() throws {
        let orders = SampleFiles.orders.replacingOccurrences(
            of: "examples: [my order is late, my parcel has not arrived]", with: "examples: []")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 12))
        #expect(issue.message.contains("intent 'orders.late' has no examples"))
    }

    @Test("examples that are all blank count as empty")
    func blankExamples() throws {
        let orders = SampleFiles.orders.replacingOccurrences(
            of: "examples: [my order is late, my parcel has not arrived]", with: "examples: [\"\", \"   \"]")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 12))
        #expect(issue.message.contains("has no examples"))
    }

    @Test("missing examples are reported at the intent")
    func missingExamples() throws {
        let orders = SampleFiles.orders.replacingOccurrences(
            of: "\n  examples: [my order is late, my parcel has not arrived]", with: "")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 9))
        #expect(issue.message.contains("intent 'orders.late' has no examples"))
    }

    @Test("bad YAML in an intents file names the line")
    func badYAML() throws {
        let orders = SampleFiles.orders.replacingOccurrences(of: "title: My order is late", with: "title: Late: where is it")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 10))
        #expect(issue.message.hasPrefix("bad YAML: "))
    }

    @Test("bad YAML in front matter names the line in the article file")
    func badFrontMatterYAML() throws {
        let orphan = "---\ntitle: Gift wrap\ntags: [orders\n---\nWe can wrap your gift.\n"
        let issues = loadIssues(SampleFiles.with(["knowledge/extra/gift-wrap.md": orphan]))
        let yaml = issues.filter { $0.message.hasPrefix("bad YAML: ") }
        #expect(yaml.count == 1, "\(issues)")
        #expect(yaml.first?.location.file == "knowledge/extra/gift-wrap.md")
        // The unclosed '[' is on line 3; the parser notices it on line 4 at the latest.
        #expect((3...4).contains(yaml.first?.location.line ?? 0), "\(issues)")
    }

    @Test("duplicate keys in YAML are bad YAML")
    func duplicateKeys() throws {
        let orders = SampleFiles.orders.replacingOccurrences(
            of: "  title: My order is late\n", with: "  title: My order is late\n  title: Late order\n")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location.file == "intents/orders.yml")
        #expect(issue.message.contains("title"))
        #expect(issue.message.contains("appears twice"))
    }

    @Test("unknown placeholder in an article body is reported at its line")
    func unknownPlaceholderInArticle() throws {
        let track = SampleFiles.track.replacingOccurrences(of: "It can take a day to show.",
                                                           with: "Or call {{phone}} to ask.")
        let issue = try #require(single(["knowledge/orders/track.md": track]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "knowledge/orders/track.md", line: 8))
        #expect(issue.message.hasPrefix("unknown placeholder {{phone}}. Add 'phone' to knowledge/_settings.yml"))
        #expect(issue.message.hasSuffix("or use one of: email, return_days, shop_name"))
    }

    @Test("unknown placeholder in an inline reply is reported at the reply line")
    func unknownPlaceholderInReply() throws {
        let returns = SampleFiles.returns.replacingOccurrences(of: "reply: Hi! Welcome to {{shop_name}}.",
                                                               with: "reply: Hi! Welcome to {{ shop }}.")
        let issue = try #require(single(["intents/returns.yml": returns]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 14))
        #expect(issue.message.hasPrefix("unknown placeholder {{shop}}."))
    }

    @Test("unknown placeholder on the second line of a 'reply: |' block is reported at that line")
    func unknownPlaceholderInReplyBlock() throws {
        // The reply key is on line 14, its first content line is 15, the placeholder is on 16.
        let returns = SampleFiles.returns.replacingOccurrences(
            of: "  reply: Hi! Welcome to {{shop_name}}.",
            with: "  reply: |\n    Hi! Welcome.\n    Ask {{ shop }} anything.")
        #expect(returns.components(separatedBy: "\n")[13] == "  reply: |")
        let issue = try #require(single(["intents/returns.yml": returns]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 16))
        #expect(issue.message.hasPrefix("unknown placeholder {{shop}}."))

        // On the first content line it is reported there.
        let first = SampleFiles.returns.replacingOccurrences(
            of: "  reply: Hi! Welcome to {{shop_name}}.",
            with: "  reply: |\n    Hi from {{ shop }}.\n    Welcome.")
        let firstIssue = try #require(single(["intents/returns.yml": first]))
        #expect(firstIssue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 15))
    }

    @Test("a '{{' without '}}' is reported")
    func unclosedPlaceholder() throws {
        let late = "---\ntitle: Late orders\n---\nMost orders arrive on time.\nWrite to {{email if yours is late.\n"
        let issue = try #require(single(["knowledge/orders/late.md": late]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "knowledge/orders/late.md", line: 5))
        #expect(issue.message.contains("no closing '}}'"))
    }

    @Test("unknown 'after' target")
    func unknownAfter() throws {
        let returns = SampleFiles.returns.replacingOccurrences(of: "after: returns.start", with: "after: returns.begin")
        let issue = try #require(single(["intents/returns.yml": returns]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 6))
        #expect(issue.message == "intent 'returns.how_long' has 'after: returns.begin', but no intent has that id")
    }

    @Test("unknown 'suggest' target")
    func unknownSuggest() throws {
        let orders = SampleFiles.orders.replacingOccurrences(of: "suggest: [orders.late]",
                                                             with: "suggest: [orders.late, orders.lost]")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 1))
        #expect(issue.message == "intent 'orders.track' suggests 'orders.lost', but no intent has that id")
    }

    @Test("unknown field is reported at its own line")
    func unknownField() throws {
        let orders = SampleFiles.orders.replacingOccurrences(of: "  tags: [orders]", with: "  tag: [orders]")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 4))
        #expect(issue.message.hasPrefix("unknown field 'tag'. Intent fields are: after, answer, examples"))
    }

    @Test("both 'answer' and 'reply'")
    func answerAndReply() throws {
        let returns = SampleFiles.returns.replacingOccurrences(of: "  reply: I will get a person for you.",
                                                               with: "  reply: I will get a person for you.\n  answer: orders/late")
        let issue = try #require(single(["intents/returns.yml": returns]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 16))
        #expect(issue.message == "intent 'contact.human' has both 'answer' and 'reply'. Keep one.")
    }

    @Test("neither 'answer' nor 'reply'")
    func noResponse() throws {
        let returns = SampleFiles.returns.replacingOccurrences(of: "\n  reply: I will get a person for you.", with: "")
        let issue = try #require(single(["intents/returns.yml": returns]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 16))
        #expect(issue.message.contains("intent 'contact.human' has no 'answer'"))
    }

    @Test("intent without an id or a title")
    func missingIdAndTitle() throws {
        let noID = SampleFiles.returns.replacingOccurrences(of: "- id: contact.human\n  title", with: "- title")
        let idIssue = try #require(single(["intents/returns.yml": noID]))
        #expect(idIssue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 16))
        #expect(idIssue.message.contains("this intent has no 'id'"))

        let noTitle = SampleFiles.returns.replacingOccurrences(of: "\n  title: Talk to a person", with: "")
        let titleIssue = try #require(single(["intents/returns.yml": noTitle]))
        #expect(titleIssue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 16))
        #expect(titleIssue.message.contains("intent 'contact.human' has no 'title'"))
    }

    @Test("'handoff' must be true or false")
    func badHandoff() throws {
        let returns = SampleFiles.returns.replacingOccurrences(of: "handoff: true", with: "handoff: maybe")
        let issue = try #require(single(["intents/returns.yml": returns]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/returns.yml", line: 19))
        #expect(issue.message == "'handoff' must be true or false")
    }

    @Test("article without a title")
    func articleWithoutTitle() throws {
        let withTags = "---\ntags: [orders]\n---\nWe can wrap your gift.\n"
        let issue = try #require(single(["knowledge/extra/gift-wrap.md": withTags]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "knowledge/extra/gift-wrap.md", line: 1))
        #expect(issue.message.hasPrefix("the article has no title"))

        let noFrontMatter = try #require(single(["knowledge/extra/gift-wrap.md": "We can wrap your gift.\n"]))
        #expect(noFrontMatter.location == SupportBotCore.SourceLocation(file: "knowledge/extra/gift-wrap.md", line: 1))
        #expect(noFrontMatter.message.hasPrefix("the article has no title"))

        let blankTitle = try #require(single(["knowledge/extra/gift-wrap.md": "---\ntitle: \"  \"\n---\nWe wrap.\n"]))
        #expect(blankTitle.message.hasPrefix("the article has no title"))
    }

    @Test("article without a body is reported on the line after the front matter")
    func articleWithoutBody() throws {
        let issue = try #require(single(["knowledge/extra/gift-wrap.md": "---\ntitle: Gift wrap\n---"]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "knowledge/extra/gift-wrap.md", line: 4))
        #expect(issue.message.hasPrefix("the article has no text"))
    }

    @Test("an article with only front matter reports 'no text' at a line the file has", arguments: [
        "---\ntitle: Late orders\n---\n",
        "---\ntitle: Late orders\n---\n\n",
        "---\ntitle: Late orders\n---\n\n\n\n",
        "---\ntitle: Late orders\n---\n  \n\t\n",
    ])
    func articleWithOnlyFrontMatter(late: String) throws {
        // Every line ends with a newline, so the file has as many lines as newlines.
        let lineCount = late.filter { $0 == "\n" }.count
        let issue = try #require(single(["knowledge/orders/late.md": late]))
        #expect(issue.location.file == "knowledge/orders/late.md")
        #expect(issue.message.hasPrefix("the article has no text"))
        let line = try #require(issue.location.line)
        #expect(line >= 4, "\(issue)")
        #expect(line <= lineCount + 1, "line \(line) of a file with \(lineCount) lines")
        if lineCount == 3 { #expect(line == 4) }
    }

    @Test("bad YAML in the front matter gives only the bad-YAML message, not also 'no title'")
    func badFrontMatterYAMLIsTheOnlyMessage() throws {
        let late = "---\ntitle: [Late orders\n---\nMost orders arrive on time.\n"
        let issue = try #require(single(["knowledge/orders/late.md": late]))
        #expect(issue.location.file == "knowledge/orders/late.md")
        #expect(issue.message.hasPrefix("bad YAML"), "\(issue)")
        #expect(!issue.message.contains("no title"))

        let tabs = "---\ntitle: Late orders\ntags: [a\n  b: c\n---\nMost orders arrive on time.\n"
        let issues = loadIssues(SampleFiles.with(["knowledge/orders/late.md": tabs]))
        #expect(!issues.isEmpty)
        #expect(issues.allSatisfy { $0.message.hasPrefix("bad YAML") }, "\(issues)")
    }

    @Test("an intent rejected for both 'answer' and 'reply' is not reported again where it is suggested")
    func rejectedIntentIsNotReportedAgainBySuggest() throws {
        // orders.track has `suggest: [orders.late]`.
        let orders = SampleFiles.orders.replacingOccurrences(of: "  answer: orders/late",
                                                             with: "  answer: orders/late\n  reply: Soon.")
        let issue = try #require(single(["intents/orders.yml": orders]))
        #expect(issue.message == "intent 'orders.late' has both 'answer' and 'reply'. Keep one.")
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/orders.yml", line: 9))
    }

    @Test("an intent rejected for its own error is not reported again where it is 'after:'")
    func rejectedIntentIsNotReportedAgainByAfter() throws {
        // returns.how_long has `after: returns.start`.
        let both = SampleFiles.returns.replacingOccurrences(of: "  answer: returns/start\n  examples:\n    - i want",
                                                            with: "  answer: returns/start\n  reply: Soon.\n  examples:\n    - i want")
        #expect(both != SampleFiles.returns)
        let issue = try #require(single(["intents/returns.yml": both]))
        #expect(issue.message == "intent 'returns.start' has both 'answer' and 'reply'. Keep one.")

        let neither = SampleFiles.returns.replacingOccurrences(of: "  answer: returns/start\n  examples:\n    - i want",
                                                               with: "  examples:\n    - i want")
        #expect(neither != SampleFiles.returns)
        let neitherIssue = try #require(single(["intents/returns.yml": neither]))
        #expect(neitherIssue.message.contains("intent 'returns.start' has no 'answer'"))
    }

    @Test("a broken article that an intent answers with is reported once, in the article", arguments: [
        ("---\ntags: [orders]\n---\nMost orders arrive on time.\n", "the article has no title"),
        ("Most orders arrive on time.\n", "the article has no title"),
        ("---\ntitle: Late orders\n---\n", "the article has no text"),
        ("---\ntitle: [Late orders\n---\nMost orders arrive on time.\n", "bad YAML"),
        ("---\ntitle: Late orders\nMost orders arrive on time.\n", "the front matter starts with '---' but never ends"),
        ("---\n- a list\n---\nMost orders arrive on time.\n", "front matter must be"),
    ])
    func brokenArticleIsNotReportedAgainByIntent(late: String, prefix: String) throws {
        let issues = loadIssues(SampleFiles.with(["knowledge/orders/late.md": late]))
        #expect(issues.count == 1, "\(issues.map(\.description))")
        #expect(issues.first?.location.file == "knowledge/orders/late.md")
        #expect(issues.first?.message.hasPrefix(prefix) == true, "\(issues.map(\.description))")
        #expect(!issues.contains { $0.message.contains("there is no file knowledge/") })
    }

    @Test("front matter that never ends")
    func unterminatedFrontMatter() throws {
        let issue = try #require(single([
            "knowledge/extra/gift-wrap.md": "---\ntitle: Gift wrap\nWe can wrap your gift.\n",
        ]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "knowledge/extra/gift-wrap.md", line: 1))
        #expect(issue.message.contains("never ends"))
    }

    @Test("unknown front matter field")
    func unknownFrontMatterField() throws {
        let late = "---\ntitle: Late orders\nauthor: Sam\n---\nMost orders arrive on time.\n"
        let issue = try #require(single(["knowledge/orders/late.md": late]))
        #expect(issue.location == SupportBotCore.SourceLocation(file: "knowledge/orders/late.md", line: 3))
        #expect(issue.message.contains("unknown front matter field 'author'"))
    }

    @Test("an intents file that is not a list")
    func notAList() throws {
        let issues = loadIssues(SampleFiles.with([
            "intents/extra.yml": "id: orders.refund\ntitle: Refund\nreply: Soon.\nexamples: [refund]\n",
        ]))
        #expect(issues.count == 1, "\(issues)")
        let issue = try #require(issues.first)
        #expect(issue.location == SupportBotCore.SourceLocation(file: "intents/extra.yml", line: 1))
        #expect(issue.message.contains("an intents file must be a list"))
    }

    @Test("no intents at all")
    func noIntents() throws {
        let issues = loadIssues([
            "knowledge/orders/late.md": "---\ntitle: Late orders\n---\nMost orders arrive on time.\n",
            "intents/empty.yml": "",
        ])
        #expect(issues == [KnowledgeIssue(SupportBotCore.SourceLocation(file: "intents/"),
                                          "no intents found. Add at least one intents/*.yml file.")])
    }

    @Test("bad settings: unknown matching key, value out of range, list value")
    func badSettings() throws {
        let settings = """
            shop_name: Pebble & Pine
            email: [a, b]
            matching:
              answer_threshold: 1.5
              max_options: 9
              treshold: 0.3
            """
        let issues = loadIssues(SampleFiles.with(["knowledge/_settings.yml": settings]))
        let settingsIssues = issues.filter { $0.location.file == "knowledge/_settings.yml" }
        #expect(settingsIssues.map(\.location.line) == [2, 4, 5, 6], "\(issues)")
        #expect(Array(settingsIssues.map(\.message).prefix(3)) == [
            "the setting 'email' must be a single value, not a list",
            "matching.answer_threshold must be between 0 and 1",
            "matching.max_options must be 2, 3, 4 or 5",
        ])
        #expect(settingsIssues.last?.message.hasPrefix("unknown setting matching.treshold. Use one of: answer_threshold, ") == true)
    }

    @Test("a synonym must be one word and have one meaning")
    func badSynonyms() throws {
        let synonyms = "parcel: [package, post box]\nbox: [package]\n"
        let issues = loadIssues(SampleFiles.with(["intents/_synonyms.yml": synonyms]))
        #expect(issues.count == 2, "\(issues)")
        #expect(issues.first?.location == SupportBotCore.SourceLocation(file: "intents/_synonyms.yml", line: 1))
        #expect(issues.first?.message.contains("'post box' is not") == true)
        #expect(issues.last?.location == SupportBotCore.SourceLocation(file: "intents/_synonyms.yml", line: 2))
        #expect(issues.last?.message.contains("'package' is already a synonym of 'parcel'") == true)
    }

    @Test("several problems in several files are all reported")
    func severalProblems() throws {
        let orders = SampleFiles.orders.replacingOccurrences(of: "answer: orders/late", with: "answer: orders/lat")
        let returns = SampleFiles.returns
            .replacingOccurrences(of: "after: returns.start", with: "after: returns.begin")
            .replacingOccurrences(of: "reply: I will get a person for you.", with: "reply: Call {{phone}}.")
        let issues = loadIssues(SampleFiles.with([
            "intents/orders.yml": orders,
            "intents/returns.yml": returns,
            "intents/broken.yml": "- id: broken\n  title: [unclosed\n",
            "knowledge/extra/gift-wrap.md": "We can wrap your gift.\n",
        ]))
        let described = issues.map(\.description)
        #expect(issues.count == 5, "\(described)")
        #expect(issues.contains { $0.location.file == "intents/broken.yml" && $0.message.hasPrefix("bad YAML") })
        #expect(issues.contains { $0.location == .init(file: "knowledge/extra/gift-wrap.md", line: 1)
            && $0.message.hasPrefix("the article has no title") })
        #expect(issues.contains { $0.location == .init(file: "intents/orders.yml", line: 9)
            && $0.message.contains("unknown article 'orders/lat'") })
        #expect(issues.contains { $0.location == .init(file: "intents/returns.yml", line: 6)
            && $0.message.contains("'after: returns.begin'") })
        #expect(issues.contains { $0.location == .init(file: "intents/returns.yml", line: 18)
            && $0.message.hasPrefix("unknown placeholder {{phone}}") })
        let error = KnowledgeBaseError(issues: issues)
        #expect(error.description.hasPrefix("The knowledge base has 5 problems:\n  "))
    }
}

@Suite("KnowledgeLoader: folders on disk")
struct KnowledgeLoaderFolderTests {
    final class TemporaryFolder {
        let path: String

        init() throws {
            path = NSTemporaryDirectory() + "SupportBotCoreTests-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        func write(_ relative: String, _ content: String) throws {
            let url = URL(fileURLWithPath: path + "/" + relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("loads intents/ and knowledge/ folders with nested articles")
    func loadsFolders() throws {
        let folder = try TemporaryFolder()
        for (relative, content) in SampleFiles.all { try folder.write(relative, content) }
        try folder.write("knowledge/notes.txt", "not an article")
        let kb = try KnowledgeLoader.load(intentsDirectory: folder.path + "/intents",
                                          knowledgeDirectory: folder.path + "/knowledge")
        #expect(kb.files == SampleFiles.all)
        #expect(kb.articles.keys.sorted() == ["orders/late", "orders/track", "returns/start"])
        #expect(kb.intents.count == 6)
        #expect(kb.articles["orders/track"]?.location.file == "knowledge/orders/track.md")
        #expect(kb.contentHash == (try KnowledgeLoader.load(files: SampleFiles.all)).contentHash)
    }

    @Test("a missing folder gives a clear error naming it")
    func missingFolder() throws {
        let folder = try TemporaryFolder()
        for (relative, content) in SampleFiles.all { try folder.write(relative, content) }
        let missing = folder.path + "/no-such-intents"
        do {
            _ = try KnowledgeLoader.load(intentsDirectory: missing, knowledgeDirectory: folder.path + "/knowledge")
            Issue.record("expected an error")
        } catch let error as KnowledgeBaseError {
            #expect(error.issues.count == 1)
            #expect(error.issues.first?.location.file == missing)
            #expect(error.issues.first?.message.hasPrefix("folder not found") == true)
            #expect(error.issues.first?.message.contains("--intents") == true)
        }
    }

    @Test("a file that is not UTF-8 is reported")
    func notUTF8() throws {
        let folder = try TemporaryFolder()
        for (relative, content) in SampleFiles.all { try folder.write(relative, content) }
        let bad = Data([0x2D, 0x2D, 0x2D, 0x0A, 0xFF, 0xFE, 0x0A])
        try bad.write(to: URL(fileURLWithPath: folder.path + "/knowledge/orders/broken.md"))
        do {
            _ = try KnowledgeLoader.load(intentsDirectory: folder.path + "/intents",
                                         knowledgeDirectory: folder.path + "/knowledge")
            Issue.record("expected an error")
        } catch let error as KnowledgeBaseError {
            #expect(error.issues.map(\.location.file) == ["knowledge/orders/broken.md"])
            #expect(error.issues.first?.message.contains("UTF-8") == true)
        }
    }
}

@Suite("KnowledgeLoader: limits on what a file may hold (D6, D7)")
struct KnowledgeLimitsTests {
    static func intents(_ examples: [String], anchor: String? = nil) -> String {
        (["- id: big.one", "  title: Big one", "  reply: Hi.", "  examples:"]
            + (anchor.map { ["    - &s \($0)"] } ?? []) + examples.map { "    - \($0)" }).joined(separator: "\n") + "\n"
    }

    @Test("YAML aliases that expand past the limit are refused with file and line, without expanding them")
    func aliasesThatExpandTooMuch() throws {
        let attack = Self.intents(Array(repeating: "*s", count: 50_000), anchor: String(repeating: "x", count: 5_000))
        let issues = loadIssues(SampleFiles.with(["intents/big.yml": attack]))
        let issue = try #require(issues.first { $0.location.file == "intents/big.yml" }, "\(issues)")
        #expect(issue.message.contains("aliases"))
        #expect(issue.location.line != nil)
        // A few aliases are fine.
        let few = Self.intents(["*s", "*s"], anchor: "where is my parcel")
        _ = try KnowledgeLoader.load(files: SampleFiles.with(["intents/big.yml": few]))
    }

    @Test("an intent with more examples than the limit, and files over their size, are refused")
    func tooManyExamplesAndTooBigFiles() throws {
        let many = Self.intents((0...KnowledgeLimits.maxExamplesPerIntent).map { "question number \($0)" })
        let issues = loadIssues(SampleFiles.with(["intents/big.yml": many]))
        #expect(issues.contains { $0.location.file == "intents/big.yml" && $0.message.contains("examples") }, "\(issues)")

        let article = "---\ntitle: Huge\n---\n" + String(repeating: "This is a sentence. ", count: 20_000)
        let yaml = "# " + String(repeating: "x", count: KnowledgeLimits.maxYAMLBytes)
        let sized = loadIssues(SampleFiles.with(["knowledge/huge.md": article, "intents/huge.yml": yaml]))
        #expect(sized.contains { $0.location.file == "knowledge/huge.md" && $0.message.contains("256 KB") }, "\(sized)")
        #expect(sized.contains { $0.location.file == "intents/huge.yml" && $0.message.contains("1.0 MB") }, "\(sized)")
    }
}
