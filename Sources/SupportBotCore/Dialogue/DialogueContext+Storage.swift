import Foundation

// How a conversation's state is stored with its session: written on every message, so by hand (JSONEncoder cost as
// much as the reply), read with the `Codable` keys. Both live here, next to the fields, so a new field is stored
// and read by the same change; `ContextStorageTests` sets every field and fails for one that does not come back.

extension DialogueContext {
    /// The JSON `JSONEncoder` would write for this context (the same keys, numbers that read back exactly).
    public func storedJSON() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func key(_ name: String) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }  // after the opening brace, a comma between keys
            JSONText.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        func list(_ items: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        func number(_ value: Double) { out.append(contentsOf: (value.isFinite ? "\(value)" : "0").utf8) }
        out.append(UInt8(ascii: "{"))
        if let lastIntent {
            key(CodingKeys.lastIntent.rawValue)
            JSONText.appendString(lastIntent, to: &out)
        }
        if let topic {
            key(CodingKeys.topic.rawValue)
            JSONText.appendString(topic, to: &out)
        }
        key(CodingKeys.pendingOptions.rawValue)
        list(pendingOptions)
        key(CodingKeys.fallbackStreak.rawValue)
        out.append(contentsOf: "\(fallbackStreak)".utf8)
        key(CodingKeys.unhelpfulStreak.rawValue)
        out.append(contentsOf: "\(unhelpfulStreak)".utf8)
        key(CodingKeys.lastCandidates.rawValue)
        list(lastCandidates)
        key(CodingKeys.turns.rawValue)
        out.append(contentsOf: "\(turns)".utf8)
        key(CodingKeys.answered.rawValue)
        list(answered)
        key(CodingKeys.offeredPerson.rawValue)
        out.append(contentsOf: (offeredPerson ? "true" : "false").utf8)
        key(CodingKeys.topicStems.rawValue)
        list(topicStems)
        key(CodingKeys.mood.rawValue)
        out.append(contentsOf: "{\"\(MoodState.CodingKeys.recent.rawValue)\":[".utf8)
        for (i, score) in mood.recent.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            number(score)
        }
        out.append(contentsOf: "],\"\(MoodState.CodingKeys.conversation.rawValue)\":".utf8)
        number(mood.conversation)
        out.append(contentsOf: ",\"\(MoodState.CodingKeys.recentHashes.rawValue)\":".utf8)
        list(mood.recentHashes)
        out.append(contentsOf: "}}".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// A context stored by `storedJSON()` (or by `JSONEncoder`, as older versions did).
    public init(storedJSON: String) throws {
        self = try JSONDecoder().decode(DialogueContext.self, from: Data(storedJSON.utf8))
    }
}
