import Foundation
import SupportBotData

/// Counts and Flesch-Kincaid grade of a text, computed the way the Python package textstat 0.7.3 does
/// (`flesch_kincaid_grade`, `lexicon_count`, `sentence_count`, `syllable_count`), so writers get the same figure
/// from SupportBot as from that widely used tool. Syllables come from Liang hyphenation with the American English
/// TeX patterns, as in textstat (through pyphen).
public struct Readability: Sendable, Equatable, Codable {
    public var words: Int
    public var sentences: Int
    public var syllables: Int
    /// Flesch-Kincaid grade level, rounded to one decimal as textstat does.
    public var grade: Double

    public init(_ text: String) {
        words = Self.wordCount(text)
        sentences = Self.sentenceCount(text)
        syllables = Self.syllableCount(text)
        let averageSentence = sentences == 0 ? 0 : Self.round1(Double(words) / Double(sentences))
        let averageSyllables = words == 0 ? 0 : Self.round1(Double(syllables) / Double(words))
        grade = Self.round1(0.39 * averageSentence + 11.8 * averageSyllables - 15.59)
    }

    /// The sentences of a text, as textstat splits them (runs of text up to and including ".", "!" or "?").
    public static func sentences(of text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let stops: Set<Unicode.Scalar> = [".", "!", "?"]
        func isWord(_ i: Int) -> Bool { i >= 0 && i < scalars.count && isWordScalar(scalars[i]) }
        var result: [String] = []
        var position = 0
        while position < scalars.count {
            // Python's `\b[^.!?]+[.!?]*`, found left to right.
            guard isWord(position - 1) != isWord(position), !stops.contains(scalars[position]) else {
                position += 1
                continue
            }
            var end = position
            while end < scalars.count && !stops.contains(scalars[end]) { end += 1 }
            while end < scalars.count && stops.contains(scalars[end]) { end += 1 }
            var sentence = String.UnicodeScalarView()
            sentence.append(contentsOf: scalars[position..<end])
            result.append(String(sentence))
            position = end
        }
        return result
    }

    /// Words after removing punctuation (hyphenated words and contractions count once).
    public static func wordCount(_ text: String) -> Int { pythonSplit(removingPunctuation(text)).count }

    /// Sentences, not counting pieces of two words or fewer ("Hi.", "Thanks!"); at least 1.
    public static func sentenceCount(_ text: String) -> Int {
        let found = sentences(of: text)
        let ignored = found.filter { wordCount($0) <= 2 }.count
        return max(1, found.count - ignored)
    }

    public static func syllableCount(_ text: String) -> Int {
        let cleaned = removingPunctuation(text.lowercased())
        return pythonSplit(cleaned).reduce(0) { $0 + Hyphenator.enUS.positions($1).count + 1 }
    }

    /// Python's `\w`: letters (L*), numbers (N*) and the underscore.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (0x30...0x39).contains(v) || (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v) || v == 0x5F
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// textstat's `remove_punctuation`: every character that is neither a word character nor white space goes.
    static func removingPunctuation(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where isWordScalar(scalar) || scalar.properties.isWhitespace {
            out.append(scalar)
        }
        return String(out)
    }

    /// Python's `str.split()`: runs of non-white space.
    static func pythonSplit(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0.unicodeScalars.allSatisfy(\.properties.isWhitespace) })
    }

    /// textstat's `_legacy_round(x, 1)`: half away from zero.
    static func round1(_ value: Double) -> Double {
        (value * 10 + (value < 0 ? -0.5 : 0.5)).rounded(.down) / 10
    }
}

/// Liang's hyphenation algorithm as pyphen runs it (at least 2 letters before the first and after the last break).
struct Hyphenator: Sendable {
    private let patterns: [String: (offset: Int, values: [Int])]
    private let longest: Int

    static let enUS = Hyphenator(patterns: HyphenationPatterns.enUS)

    init(patterns text: String) {
        var table: [String: (offset: Int, values: [Int])] = [:]
        for line in text.split(separator: "\n") {
            let pattern = line.trimmingCharacters(in: .whitespaces)
            guard !pattern.isEmpty else { continue }
            var letters = String.UnicodeScalarView()
            var values: [Int] = []
            var pending = 0
            for scalar in pattern.unicodeScalars {
                if let digit = Int(String(scalar)), scalar.isASCII {
                    pending = digit
                } else {
                    values.append(pending)
                    letters.append(scalar)
                    pending = 0
                }
            }
            values.append(pending)
            guard let start = values.firstIndex(where: { $0 != 0 }),
                  let end = values.lastIndex(where: { $0 != 0 }) else { continue }
            table[String(letters)] = (start, Array(values[start...end]))
        }
        patterns = table
        longest = table.keys.map { $0.unicodeScalars.count }.max() ?? 1
    }

    /// Break positions inside `word` (counted in characters from the start), as `Pyphen.positions`.
    func positions(_ word: Substring) -> [Int] {
        let letters = Array(word.lowercased().unicodeScalars)
        let pointed: [Unicode.Scalar] = ["."] + letters + ["."]
        var references = [Int](repeating: 0, count: pointed.count + 1)
        for i in 0..<(pointed.count - 1) {
            let stop = min(i + longest, pointed.count)
            var key = String.UnicodeScalarView()
            for j in (i + 1)...stop {
                key.append(pointed[j - 1])
                guard let (offset, values) = patterns[String(key)] else { continue }
                for (k, value) in values.enumerated() {
                    let index = i + offset + k
                    guard index < references.count else { break }
                    references[index] = max(references[index], value)
                }
            }
        }
        let right = letters.count - 2
        return references.indices.filter { references[$0] % 2 == 1 }.map { $0 - 1 }.filter { $0 >= 2 && $0 <= right }
    }
}
