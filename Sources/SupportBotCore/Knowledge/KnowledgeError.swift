/// One problem in the knowledge files, reported like a compiler: `intents/orders.yml:12: message`.
public struct KnowledgeIssue: Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// The knowledge base can't be used; every problem found is listed, not just the first.
public struct KnowledgeBaseError: Error, Sendable, CustomStringConvertible {
    public var issues: [KnowledgeIssue]

    public init(issues: [KnowledgeIssue]) { self.issues = issues }

    public var description: String {
        let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
        return (["The knowledge base has \(count):"] + issues.map { "  \($0)" }).joined(separator: "\n")
    }
}
