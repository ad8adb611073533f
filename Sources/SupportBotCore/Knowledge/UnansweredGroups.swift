/// Customer messages the bot could not answer, grouped when they say much the same thing, so writers see
/// which questions to add as examples or articles.
public struct UnansweredGroup: Sendable, Equatable {
    /// The newest message of the group, as the customer wrote it (masked).
    public var example: String
    /// Its conversation, to read with `supportbot transcript`.
    public var session: String
    public var count: Int
    /// How many ended in fallback, clarify or handoff.
    public var outcomes: [String: Int]
    /// Other wordings in the group (up to 3).
    public var variants: [String]
}

public enum UnansweredGroups {
    /// Groups messages (given newest first) whose word stems overlap by at least `similarity` (Jaccard);
    /// groups come out in order of their newest message.
    public static func group(_ messages: [(text: String, session: String, outcome: String)], analyzer: TextAnalyzer,
                             similarity: Double = 0.5) -> [UnansweredGroup] {
        var groups: [(stems: Set<String>, group: UnansweredGroup)] = []
        for message in messages {
            let stems = Set(analyzer.analyze(message.text, correctSpelling: false).map(\.stem))
            let index = groups.firstIndex { candidate in
                guard !stems.isEmpty || !candidate.stems.isEmpty else {
                    return candidate.group.example.lowercased() == message.text.lowercased()
                }
                let shared = Double(stems.intersection(candidate.stems).count)
                return shared / Double(stems.union(candidate.stems).count) >= similarity
            }
            if let index {
                groups[index].group.count += 1
                groups[index].group.outcomes[message.outcome, default: 0] += 1
                if groups[index].group.variants.count < 3, message.text != groups[index].group.example,
                   !groups[index].group.variants.contains(message.text) {
                    groups[index].group.variants.append(message.text)
                }
            } else {
                groups.append((stems, UnansweredGroup(example: message.text, session: message.session, count: 1,
                                                      outcomes: [message.outcome: 1], variants: [])))
            }
        }
        return groups.map(\.group)
    }
}
