import Testing
@testable import SupportBotCore

@Suite("Conversation tests (intents/tests)")
struct ConversationTestsTests {
    static func knowledgeBase(tests: String) throws -> KnowledgeBase {
        try KnowledgeLoader.load(files: [
            "intents/shop.yml": """
                - id: orders.track
                  title: Track my order
                  answer: orders/track
                  examples: [where is my order, track my order, where is my parcel, has my order shipped, order tracking]
                - id: returns.start
                  title: Start a return
                  answer: returns/start
                  examples: [i want to return an item, send something back, return my boots, start a return, how do i return]
                """,
            "knowledge/orders/track.md": "---\ntitle: Track\n---\nOpen the tracking link in your e-mail.\n",
            "knowledge/returns/start.md": "---\ntitle: Returns\n---\nGo to My orders and tap Return.\n",
            "intents/tests/basic.yml": tests,
        ])
    }

    @Test("passing steps give no failures; follow-ups and choices keep the conversation")
    func passing() throws {
        let kb = try Self.knowledgeBase(tests: """
            - name: track with a typo
              steps:
                - say: wher is my ordr
                  intent: orders.track
                  action: answer
                  contains: [tracking, E-MAIL]
            - name: out of scope
              steps:
                - say: zebras play xylophones
                  action: fallback
            """)
        let (tests, issues) = ConversationTests.parse(kb)
        #expect(issues.isEmpty)
        #expect(tests.count == 2)
        #expect(tests[0].steps[0].contains == ["tracking", "E-MAIL"])
        let failures = ConversationTests.run(tests, engine: SupportEngine(knowledgeBase: kb, version: 1))
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("a wrong expectation fails with the step, its line, what happened and the candidates")
    func failing() throws {
        let kb = try Self.knowledgeBase(tests: """
            - name: wrong intent
              steps:
                - say: where is my order
                  intent: returns.start
                  contains: nowhere to be found
            - name: misspelt intent id
              steps:
                - say: where is my order
                  intent: orders.trak
            """)
        let (tests, _) = ConversationTests.parse(kb)
        let failures = ConversationTests.run(tests, engine: SupportEngine(knowledgeBase: kb, version: 1))
        #expect(failures.count == 2)
        let first = try #require(failures.first)
        #expect(first.location == SourceLocation(file: "intents/tests/basic.yml", line: 3))
        #expect(first.problems.contains("expected intent returns.start, got orders.track"))
        #expect(first.problems.contains("expected the reply to contain \"nowhere to be found\""))
        #expect(first.candidates.first?.hasPrefix("orders.track") == true)
        #expect(failures[1].problems == ["the test names intent orders.trak, which does not exist"])
    }

    @Test("handoffs are an action with a reason")
    func handoff() throws {
        let kb = try Self.knowledgeBase(tests: """
            - name: angry
              steps:
                - say: this is ridiculous, i want a manager now!!!
                  action: handoff
                  reason: angry
            """)
        let (tests, _) = ConversationTests.parse(kb)
        #expect(ConversationTests.run(tests, engine: SupportEngine(knowledgeBase: kb, version: 1)).isEmpty)
    }

    @Test("badly written tests are reported with their line")
    func badFiles() throws {
        let kb = try Self.knowledgeBase(tests: """
            - name: two inputs
              steps:
                - say: hello
                  choose: 1
            - name: bad action
              steps:
                - say: hello
                  action: shout
            - name: unknown key
              steps:
                - say: hello
                  expect: orders.track
            - steps:
                - say: hello
            """)
        let (tests, issues) = ConversationTests.parse(kb)
        #expect(tests.isEmpty)
        let text = issues.map(\.description)
        #expect(text.contains { $0.hasPrefix("intents/tests/basic.yml:3") && $0.contains("exactly one of") })
        #expect(text.contains { $0.hasPrefix("intents/tests/basic.yml:7") && $0.contains("action 'shout'") })
        #expect(text.contains { $0.hasPrefix("intents/tests/basic.yml:11") && $0.contains("unknown field 'expect'") })
        #expect(text.contains { $0.hasPrefix("intents/tests/basic.yml:13") && $0.contains("needs a `name:`") })
    }
}
