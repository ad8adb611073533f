/// Maps a customer's word to the canonical word the knowledge base uses ("package" -> "parcel").
/// Loaded from `intents/_synonyms.yml` (`canonical: [variant, ...]`).
public struct Synonyms: Sendable, Equatable {
    public private(set) var canonicalByVariant: [String: String]

    public init(_ canonicalByVariant: [String: String] = [:]) {
        self.canonicalByVariant = canonicalByVariant
    }

    public func canonical(for word: String) -> String? { canonicalByVariant[word] }

    public var allWords: Set<String> { Set(canonicalByVariant.keys).union(canonicalByVariant.values) }
}
