import Foundation
import Testing
@testable import SupportBotCore

/// The dialogue context is stored as JSON on every message, written by hand for speed. It must read back exactly,
/// and say the same as `JSONEncoder` would (so contexts stored before and after the change read alike).
@Suite struct ContextStorageTests {
    static var contexts: [DialogueContext] {
        let empty = DialogueContext()
        var busy = DialogueContext()
        busy.lastIntent = "orders.track"
        busy.topic = "orders"
        busy.pendingOptions = ["orders.late", "returns.start"]
        busy.fallbackStreak = 2
        busy.unhelpfulStreak = 1
        busy.lastCandidates = ["orders.track", "orders.late", "a \"quoted\" id", "back\\slash", "new\nline", "tab\t", "café ✓"]
        busy.turns = 12345
        busy.answered = ["orders.track"]
        busy.offeredPerson = true
        busy.topicStems = ["account", "lock", "\"odd\" stem"]
        busy.mood.recent = [0, 0.35, 0.1 + 0.2, 1e-7, 0.999, 123456.789]
        busy.mood.conversation = 0.1 + 0.7
        busy.mood.recentHashes = ["0123456789abcdef", ""]
        var onlyTopic = DialogueContext()
        onlyTopic.topic = "returns"
        onlyTopic.mood.conversation = 1
        return [empty, busy, onlyTopic]
    }

    @Test func readsBackExactly() throws {
        for context in Self.contexts {
            let json = context.storedJSON()
            let decoded = try DialogueContext(storedJSON: json)
            #expect(decoded == context, "\(json)")
        }
    }

    @Test("the busy context sets every field, its mood's too: a field added to the context must be added here, and so to storedJSON()")
    func everyFieldIsTried() {
        let busy = Self.contexts[1]
        func unset(_ value: Any, _ empty: Any, path: String) -> [String] {
            let fields = Mirror(reflecting: value).children, defaults = Mirror(reflecting: empty).children
            return zip(fields, defaults).flatMap { field, empty -> [String] in
                let name = path + (field.label ?? "?")
                if field.value is MoodState { return unset(field.value, empty.value, path: name + ".") }
                return String(describing: field.value) == String(describing: empty.value) ? [name] : []
            }
        }
        #expect(unset(busy, DialogueContext(), path: "").isEmpty)
        #expect(Mirror(reflecting: busy).children.count >= 11)
    }

    @Test func saysWhatJSONEncoderSays() throws {
        for context in Self.contexts {
            let ours = try JSONSerialization.jsonObject(with: Data(context.storedJSON().utf8)) as? NSDictionary
            let theirs = try JSONSerialization.jsonObject(with: JSONEncoder().encode(context)) as? NSDictionary
            #expect(ours != nil)
            #expect(ours == theirs)
        }
    }

    @Test("any string is written as JSON that reads back the same: quotes, backslashes, every control character")
    func stringsReadBack() throws {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let strings = ["", "plain", "say \"hi\"", "back\\slash", controls, "a\(controls)b", "café ✓ 🙂", "end\\"]
        for string in strings {
            var out: [UInt8] = []
            JSONText.appendString(string, to: &out)
            let read = try JSONSerialization.jsonObject(with: Data(out), options: .fragmentsAllowed) as? String
            #expect(read == string, "\(String(decoding: out, as: UTF8.self))")
        }
    }
}
