import Testing
@testable import SupportBotCore

@Suite("Unanswered messages grouped for writers")
struct UnansweredGroupsTests {
    @Test("messages with mostly the same words group together, newest group first, with counts and variants")
    func grouping() {
        let analyzer = TextAnalyzer(synonyms: Synonyms(), speller: nil)
        let groups = UnansweredGroups.group([
            ("do you sell bicycles", "s-3", "fallback"),
            ("what's the weather like", "s-2", "fallback"),
            ("do you sell a bicycle?", "s-1", "clarify"),
            ("do you sell bicycles", "s-0", "fallback"),
        ], analyzer: analyzer)
        #expect(groups.count == 2)
        #expect(groups[0].example == "do you sell bicycles")
        #expect(groups[0].session == "s-3")
        #expect(groups[0].count == 3)
        #expect(groups[0].outcomes == ["fallback": 2, "clarify": 1])
        #expect(groups[0].variants == ["do you sell a bicycle?"])
        #expect(groups[1].example == "what's the weather like" && groups[1].count == 1)
    }
}
