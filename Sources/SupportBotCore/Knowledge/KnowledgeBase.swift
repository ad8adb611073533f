/// Where something came from in the knowledge files, for messages like `intents/orders.yml:12: …`.
public struct SourceLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?

    public init(file: String, line: Int? = nil) {
        self.file = file
        self.line = line
    }

    public var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// What the bot says when an intent matches: an article from knowledge/, or an inline reply for small talk.
public enum IntentResponse: Sendable, Equatable {
    case article(id: String)
    case reply(String)
}

/// Something customers say: an id, a title shown in "Did you mean…", example phrasings and the response.
public struct Intent: Sendable, Equatable, Identifiable {
    public var id: String
    public var title: String
    public var examples: [String]
    public var response: IntentResponse
    public var tags: [String]
    public var handoff: Bool
    /// This intent is only valid right after one of these intents was answered.
    public var after: [String]
    /// Follow-up intents offered as quick replies after this one is answered.
    public var suggest: [String]
    public var location: SourceLocation

    public init(
        id: String, title: String, examples: [String], response: IntentResponse, tags: [String] = [],
        handoff: Bool = false, after: [String] = [], suggest: [String] = [],
        location: SourceLocation = SourceLocation(file: "<memory>")
    ) {
        self.id = id
        self.title = title
        self.examples = examples
        self.response = response
        self.tags = tags
        self.handoff = handoff
        self.after = after
        self.suggest = suggest
        self.location = location
    }
}

/// One answer written by a content writer: `knowledge/<id>.md`.
public struct Article: Sendable, Equatable, Identifiable {
    public var id: String
    public var title: String
    public var tags: [String]
    /// The body with placeholders filled in.
    public var body: String
    public var location: SourceLocation
    /// Line in the file where the body starts.
    public var bodyLine: Int

    public init(id: String, title: String, tags: [String] = [], body: String,
                location: SourceLocation = SourceLocation(file: "<memory>"), bodyLine: Int = 1) {
        self.id = id
        self.title = title
        self.tags = tags
        self.body = body
        self.location = location
        self.bodyLine = bodyLine
    }
}

/// A complete, validated knowledge base: intents, articles, settings and synonyms.
public struct KnowledgeBase: Sendable {
    /// Fixed at creation: the id index below is built from it.
    public let intents: [Intent]
    public var articles: [String: Article]
    /// Placeholder values from `knowledge/_settings.yml`.
    public var settings: [String: String]
    public var synonyms: Synonyms
    public var matching: MatchingConfig
    /// Mood threshold and opening hours for handing chats to people.
    public var handoff: HandoffSettings
    /// Limits for `supportbot kb lint`.
    public var lint: LintSettings
    /// The raw files this knowledge base was read from (relative path: content), for hashing and snapshots.
    public var files: [String: String]

    private let intentIndex: [String: Int]

    public init(
        intents: [Intent], articles: [String: Article] = [:], settings: [String: String] = [:],
        synonyms: Synonyms = Synonyms(), matching: MatchingConfig = MatchingConfig(),
        handoff: HandoffSettings = HandoffSettings(), lint: LintSettings = LintSettings(), files: [String: String] = [:]
    ) {
        self.intents = intents
        self.articles = articles
        self.settings = settings
        self.synonyms = synonyms
        self.matching = matching
        self.handoff = handoff
        self.lint = lint
        self.files = files
        var index: [String: Int] = [:]
        for (i, intent) in intents.enumerated() where index[intent.id] == nil { index[intent.id] = i }
        self.intentIndex = index
    }

    public func intent(_ id: String) -> Intent? { intentIndex[id].map { intents[$0] } }

    /// The same knowledge base with other intents (for example with some examples held out).
    public func replacingIntents(_ intents: [Intent]) -> KnowledgeBase {
        KnowledgeBase(intents: intents, articles: articles, settings: settings, synonyms: synonyms,
                      matching: matching, handoff: handoff, lint: lint, files: files)
    }

    /// The text the bot sends when this intent is answered.
    public func answerText(for intent: Intent) -> String {
        switch intent.response {
        case .reply(let text): return text
        case .article(let id): return articles[id]?.body ?? ""
        }
    }

    /// A stable SHA-256 of all files, used to tell knowledge-base versions apart.
    public var contentHash: String {
        var data: [UInt8] = []
        for path in files.keys.sorted() {
            data.append(contentsOf: Array(path.utf8))
            data.append(0)
            data.append(contentsOf: Array(files[path]!.utf8))
            data.append(0)
        }
        return SHA256.hex(data)
    }
}
