import Foundation

/// Turns raw customer text into lower-case word tokens: Unicode and case folding, accents removed,
/// contractions expanded, punctuation dropped. Pure and deterministic.
public enum TextNormalizer {
    /// Folds case and accents, expands contractions and splits into word tokens.
    public static func tokens(_ text: String) -> [String] {
        if text.isPlainASCII { return asciiTokens(text) }
        var words: [String] = []
        var current = ""
        func flush() {
            guard !current.isEmpty else { return }
            let trimmed = current.trimmingApostrophes()
            if !trimmed.isEmpty { words.append(contentsOf: expandContraction(trimmed)) }
            current = ""
        }
        for scalar in fold(text).unicodeScalars {
            // ASCII needs no Unicode property lookup (most messages are all ASCII).
            let isWordCharacter = scalar.isASCII
                ? (("a"..."z").contains(scalar) || ("0"..."9").contains(scalar))
                : scalar.properties.isAlphabetic
            if isWordCharacter {
                current.unicodeScalars.append(scalar)
            } else if scalar == "'" && !current.isEmpty {
                current.unicodeScalars.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        return words
    }

    /// `tokens` for plain ASCII (most messages), on bytes: the same words, without building each one scalar by
    /// scalar.
    private static func asciiTokens(_ text: String) -> [String] {
        let folded = text.utf8.map(lowered)
        let apostrophe = UInt8(ascii: "'")
        return folded.withUnsafeBufferPointer { bytes in
            var words: [String] = []
            var start = -1
            func flush(_ end: Int) {
                guard start >= 0 else { return }
                var end = end
                while end > start && bytes[end - 1] == apostrophe { end -= 1 }  // a word never starts with one
                if end > start {
                    words.append(contentsOf: expandContraction(
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)))
                }
                start = -1
            }
            for i in bytes.indices {
                switch bytes[i] {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if start < 0 { start = i }
                case apostrophe where start >= 0:
                    continue
                default:
                    flush(i)
                }
            }
            flush(bytes.count)
            return words
        }
    }

    /// ASCII folding: capitals to lower case, a backtick to an apostrophe.
    private static func lowered(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
        case UInt8(ascii: "`"): UInt8(ascii: "'")
        default: byte
        }
    }

    /// Lower-cases, strips accents and maps typographic quotes to plain ones.
    public static func fold(_ text: String) -> String {
        // Fast path: plain ASCII has no accents to strip, only capitals and backticks to change.
        if text.isPlainASCII {
            return String(decoding: text.utf8.map(lowered), as: UTF8.self)
        }
        var out = String.UnicodeScalarView()
        // Map accent-apostrophes before decomposition turns them into a space and a combining mark.
        let apostrophes = text.replacingOccurrences(of: "\u{00B4}", with: "'")
        for scalar in apostrophes.decomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .spacingMark:
                continue
            default:
                break
            }
            switch scalar {
            case "\u{2018}", "\u{2019}", "\u{02BC}", "`", "\u{00B4}":
                out.append("'")
            case "ß":
                out.append(contentsOf: "ss".unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func expandContraction(_ word: String) -> [String] {
        if let whole = wholeContractions[word] { return whole }
        // A byte search: `String.contains(String)` goes through Foundation and cost a tenth of each reply.
        if !word.utf8.contains(UInt8(ascii: "'")) { return [word] }
        // Suffixes are compared as bytes: Foundation's string search showed up in every reply's profile.
        let bytes = Array(word.utf8)
        func endsWith(_ suffix: String) -> Bool {
            let tail = Array(suffix.utf8)
            return bytes.count > tail.count && bytes[(bytes.count - tail.count)...].elementsEqual(tail)
        }
        for (suffix, expansion) in suffixContractions where endsWith(suffix) {
            let stem = String(decoding: bytes.dropLast(suffix.utf8.count), as: UTF8.self)
            return [stem] + expansion
        }
        // Possessive or unknown: "shop's" -> "shop"
        if endsWith("'s") { return [String(decoding: bytes.dropLast(2), as: UTF8.self)] }
        return [String(decoding: bytes.filter { $0 != UInt8(ascii: "'") }, as: UTF8.self)]
    }

    private static let wholeContractions: [String: [String]] = [
        "can't": ["can", "not"], "cant": ["can", "not"], "won't": ["will", "not"], "wont": ["will", "not"],
        "shan't": ["shall", "not"], "ain't": ["is", "not"], "i'm": ["i", "am"], "im": ["i", "am"],
        "let's": ["let", "us"], "y'all": ["you", "all"], "dont": ["do", "not"], "doesnt": ["does", "not"],
        "didnt": ["did", "not"], "isnt": ["is", "not"], "wasnt": ["was", "not"], "havent": ["have", "not"],
        "hasnt": ["has", "not"], "couldnt": ["could", "not"], "wouldnt": ["would", "not"],
        "shouldnt": ["should", "not"], "arent": ["are", "not"], "werent": ["were", "not"],
        "ive": ["i", "have"], "youre": ["you", "are"], "thats": ["that", "is"], "whats": ["what", "is"],
        "wheres": ["where", "is"], "hows": ["how", "is"], "theres": ["there", "is"],
        "it's": ["it", "is"], "that's": ["that", "is"], "what's": ["what", "is"], "where's": ["where", "is"],
        "how's": ["how", "is"], "there's": ["there", "is"], "who's": ["who", "is"], "here's": ["here", "is"],
        "when's": ["when", "is"], "why's": ["why", "is"],
        // Chat spelling: "how r u", "whats ur phone number", "can u help".
        "u": ["you"], "ya": ["you"], "ur": ["your"], "yr": ["your"], "r": ["are"], "pls": ["please"],
        "plz": ["please"], "wat": ["what"], "wot": ["what"], "cuz": ["because"], "coz": ["because"],
        "b4": ["before"], "tmrw": ["tomorrow"], "tmr": ["tomorrow"], "2day": ["today"], "wanna": ["want", "to"],
        "gonna": ["going", "to"], "dunno": ["do", "not", "know"], "thru": ["through"], "tho": ["though"],
        "abt": ["about"], "ppl": ["people"], "msg": ["message"], "asap": ["as", "soon", "as", "possible"],
    ]

    private static let suffixContractions: [(String, [String])] = [
        ("n't", ["not"]), ("'re", ["are"]), ("'ve", ["have"]), ("'ll", ["will"]), ("'d", ["would"]),
        ("'m", ["am"]),
    ]
}

extension String {
    /// Only ASCII bytes: no accents, no emoji, one byte per character. Most messages are; the text code takes
    /// byte-level fast paths for them.
    var isPlainASCII: Bool { utf8.allSatisfy { $0 < 0x80 } }

    /// Whether `part` occurs in this string: Foundation's `contains`, which on plain-ASCII text is a byte search, done
    /// here without Foundation's slow general search (it runs on most messages).
    func containsText(_ part: String) -> Bool {
        guard isPlainASCII, part.isPlainASCII else { return contains(part) }
        var text = self, part = part
        return text.withUTF8 { text in
            part.withUTF8 { part in
                guard !part.isEmpty else { return false }  // as Foundation says
                guard part.count <= text.count else { return false }
                for start in 0...(text.count - part.count) {
                    var at = 0
                    while at < part.count && text[start + at] == part[at] { at += 1 }
                    if at == part.count { return true }
                }
                return false
            }
        }
    }

    fileprivate func trimmingApostrophes() -> String {
        var s = Substring(self)
        while s.first == "'" { s = s.dropFirst() }
        while s.last == "'" { s = s.dropLast() }
        return String(s)
    }
}
