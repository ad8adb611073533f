import Foundation

/// Replaces personal data in free text before it is stored or logged:
/// e-mail addresses become `[email]`, payment card numbers `[card]`, bank account numbers (IBANs) `[iban]`, phone
/// numbers `[phone]`.
///
/// A hand-written scanner: every character is visited a bounded number of times, so the cost is
/// linear in the length of the message whatever it contains.
///
/// - Card: 13–19 digits, Luhn-valid, in groups split by spaces (up to three; tabs and no-break spaces too), or one
///   dash, dot, slash or underscore; also glued to a word (`visa4111111111111111`). Full-width digits count.
/// - IBAN: a known country's two letters, two check digits and the rest, exactly that country's length, in one piece
///   or in groups of four split by single spaces, that pass the mod-97 check.
/// - Phone: optional leading `+`, 9–15 digits, groups split by spaces, dashes, dots, slashes or parentheses.
///   A number that starts with `+` is always a phone number, never a date or an address (`+44-20-7946-0958`).
/// - Not masked: other numbers glued to words (`PP-123456789`, `#123456789`, `A1234567890`), amounts after a
///   currency sign, dates (`2025-03-12`, `12.03.2025`, `12/03/2025`), IPv4 addresses and anything under 9 digits.
public enum PIIMasker {
    public static let emailToken = "[email]"
    public static let cardToken = "[card]"
    public static let ibanToken = "[iban]"
    public static let phoneToken = "[phone]"

    public static func mask(_ text: String) -> String {
        // "@" and the digits are single bytes in UTF-8 (and never part of another letter's bytes); full-width digits
        // start with 0xEF.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "@") || ($0 >= 48 && $0 <= 57) || $0 == 0xEF }) else {
            return text
        }
        let scalars = Array(text.unicodeScalars)
        let withoutEmails = maskIBANs(maskEmails(scalars))
        // Digits and spaces are read in their plain forms; what is kept is copied as it was written.
        let folded = withoutEmails.map(fold)
        let masked = maskNumbers(folded, copyingFrom: withoutEmails)
        // Most texts with digits hold no personal data ("30 days", "order 1234"): the text as it was.
        guard masked != scalars else { return text }
        // Encoded by hand: building a String from scalars one by one cost more than the scan.
        var utf8: [UInt8] = []
        utf8.reserveCapacity(masked.count + 8)
        for scalar in masked { utf8.append(contentsOf: UTF8.encode(scalar)!) }
        return String(decoding: utf8, as: UTF8.self)
    }

    // MARK: - E-mail addresses

    private static func maskEmails(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        replacingSpans(in: s, with: emailToken) { k, copied in emailSpan(in: s, at: k, copied: copied) }
    }

    /// The e-mail address whose "@" is at `k`, not reaching back before `copied`.
    private static func emailSpan(in s: [Unicode.Scalar], at k: Int, copied: Int) -> Range<Int>? {
        guard s[k] == "@" else { return nil }
        // Local part: never reaches back past what was already consumed.
        var left = k
        while left > copied, isLocalPart(s[left - 1]) { left -= 1 }
        while left < k, s[left] == "." { left += 1 }
        // Domain.
        var right = k + 1
        while right < s.count, isDomainPart(s[right]) { right += 1 }
        while right > k + 1, s[right - 1] == "." || s[right - 1] == "-" { right -= 1 }
        return left < k && isValidDomain(s[(k + 1)..<right]) ? left..<right : nil
    }

    /// The e-mail addresses in a text, in order, as `mask` would find them.
    public static func emailAddresses(in text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        return spans(in: s) { k, copied in emailSpan(in: s, at: k, copied: copied) }.map { span in
            var address = String.UnicodeScalarView()
            address.append(contentsOf: s[span])
            return String(address)
        }
    }

    /// An address shown back to its owner without spelling it out: "j•••@example.com".
    public static func hint(ofEmail address: String) -> String {
        guard let at = address.firstIndex(of: "@"), let first = address.first, at != address.startIndex else {
            return emailToken
        }
        return "\(first)•••\(address[at...])"
    }

    /// The spans that `span(k, copied)` finds in `s`, scanning left to right. `copied` is where the text after the
    /// last span starts: a span may begin before `k` but not before it.
    private static func spans(in s: [Unicode.Scalar], span: (_ k: Int, _ copied: Int) -> Range<Int>?) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var copied = 0
        var k = 0
        while k < s.count {
            guard let next = span(k, copied) else { k += 1; continue }
            found.append(next)
            copied = next.upperBound
            k = next.upperBound
        }
        return found
    }

    /// `s` with each span that `spans(in:span:)` finds replaced by `token`.
    private static func replacingSpans(in s: [Unicode.Scalar], with token: String,
                                       span: (_ k: Int, _ copied: Int) -> Range<Int>?) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var copied = 0  // s[..<copied] is already in `out`
        for found in spans(in: s, span: span) {
            out.append(contentsOf: s[copied..<found.lowerBound])
            out.append(contentsOf: token.unicodeScalars)
            copied = found.upperBound
        }
        out.append(contentsOf: s[copied...])
        return out
    }

    private static func isLocalPart(_ c: Unicode.Scalar) -> Bool {
        isAlphanumeric(c) || c == "." || c == "_" || c == "%" || c == "+" || c == "-"
    }

    private static func isDomainPart(_ c: Unicode.Scalar) -> Bool {
        isAlphanumeric(c) || c == "." || c == "-"
    }

    private static func isValidDomain(_ domain: ArraySlice<Unicode.Scalar>) -> Bool {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }), let tld = labels.last else { return false }
        return tld.count >= 2 && tld.allSatisfy { $0.properties.isAlphabetic }
    }

    // MARK: - IBANs

    /// IBAN lengths by country (ISO 13616 registry): a candidate must have its country's exact length.
    static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
        "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
        "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
        "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
        "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
        "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26,
        "UA": 29, "VG": 24, "XK": 20,
    ]

    /// An IBAN: a known country's two letters, two check digits and the rest, exactly as long as that country's,
    /// written in one piece or in groups of four split by single spaces (the last group shorter), passing mod 97.
    private static func maskIBANs(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        replacingSpans(in: s, with: ibanToken) { k, _ in
            guard k + 4 <= s.count, isLetter(s[k]), isLetter(s[k + 1]), isDigit(s[k + 2]), isDigit(s[k + 3]),
                  k == 0 || !isAlphanumeric(s[k - 1]),
                  let length = ibanLengths[String(Character(s[k]).uppercased() + Character(s[k + 1]).uppercased())],
                  let end = ibanEnd(s, from: k, length: length) else { return nil }
            return k..<end
        }
    }

    /// Where an IBAN of `length` characters that starts at `start` ends, or nil.
    private static func ibanEnd(_ s: [Unicode.Scalar], from start: Int, length: Int) -> Int? {
        var characters: [Unicode.Scalar] = []
        var i = start
        // In one piece…
        while i < s.count, isASCIIAlphanumeric(s[i]), characters.count <= length { characters.append(s[i]); i += 1 }
        if characters.count == length, i == s.count || !isAlphanumeric(s[i]) {
            return isIBAN(characters[...]) ? i : nil
        }
        // …or in groups of four.
        guard characters.count == 4 else { return nil }
        while characters.count < length {
            guard i + 1 < s.count, s[i] == " ", isASCIIAlphanumeric(s[i + 1]) else { return nil }
            i += 1
            var group = 0
            while i < s.count, isASCIIAlphanumeric(s[i]), group < 4 { characters.append(s[i]); i += 1; group += 1 }
            guard i == s.count || !isAlphanumeric(s[i]) else { return nil }
            if group < 4 { break }
        }
        return characters.count == length && isIBAN(characters[...]) ? i : nil
    }

    /// ISO 13616: the first four characters moved to the end, letters as 10–35, the number mod 97 is 1.
    private static func isIBAN(_ characters: ArraySlice<Unicode.Scalar>) -> Bool {
        let rearranged = Array(characters.dropFirst(4)) + Array(characters.prefix(4))
        var remainder = 0
        for c in rearranged {
            let value: Int
            if isDigit(c) {
                value = Int(c.value) - 48
                remainder = (remainder * 10 + value) % 97
            } else {
                value = Int(Character(c).uppercased().unicodeScalars.first!.value) - 55
                guard (10...35).contains(value) else { return false }
                remainder = (remainder * 100 + value) % 97
            }
        }
        return remainder == 1
    }

    // MARK: - Card and phone numbers

    /// A run of digit groups joined by phone/card separators, e.g. `+44 (0)20 7946-0958`.
    private struct Group {
        var start: Int        // first digit
        var end: Int          // one past the last digit
        var spanStart: Int    // where a masked span starting at this group begins (includes `(` / `+`)
        var separatorBefore: [Unicode.Scalar]
        var digitCount: Int { end - start }
    }

    /// - Parameters:
    ///   - s: the text with digits and spaces folded to their plain forms (`fold`), read to find the numbers;
    ///   - original: the same text as written (as long as `s`), copied where nothing is masked.
    private static func maskNumbers(_ s: [Unicode.Scalar], copyingFrom original: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var copied = 0
        var i = 0
        while i < s.count {
            guard let runStart = runStart(s, at: i) else { i += 1; continue }
            if !isBoundaryBefore(s, runStart) {
                // A card number glued to a word (visa4111111111111111) is still a card.
                if isAlphanumeric(s[runStart - 1]), isDigit(s[runStart]) {
                    var end = runStart
                    while end < s.count, isDigit(s[end]) { end += 1 }
                    let glued = end < s.count && (isAlphanumeric(s[end]) || s[end] == "_")
                    if !glued, (13...19).contains(end - runStart),
                       isLuhnValid(s, [Group(start: runStart, end: end, spanStart: runStart, separatorBefore: [])][...]) {
                        out.append(contentsOf: original[copied..<runStart])
                        out.append(contentsOf: cardToken.unicodeScalars)
                        copied = end
                        i = end
                        continue
                    }
                }
                // Part of an identifier such as PP-123456789 or an amount such as £123456789: skip all of it.
                i = runStart
                while i < s.count, isIdentifierPart(s[i]) || s[i] == "+" || s[i] == "(" || s[i] == ")" { i += 1 }
                continue
            }
            let groups = scanRun(s, from: runStart)
            let runEnd = groups[groups.count - 1].end
            let gluedAfter = runEnd < s.count && (isAlphanumeric(s[runEnd]) || s[runEnd] == "_")
            for (from, to, token) in spansToMask(s, groups, lastGroupUsable: !gluedAfter) {
                out.append(contentsOf: original[copied..<from])
                out.append(contentsOf: token.unicodeScalars)
                copied = to
            }
            i = runEnd
            if gluedAfter {
                while i < s.count, isIdentifierPart(s[i]) { i += 1 }
            }
        }
        out.append(contentsOf: original[copied...])
        return out
    }

    /// Where a run begins if one begins at `i`: a digit, or `+`/`(` (or `+(`) directly followed by a digit.
    private static func runStart(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        if isDigit(s[i]) { return i }
        var j = i
        if s[j] == "+" { j += 1 }
        if j < s.count, s[j] == "(" { j += 1 }
        return j > i && j < s.count && isDigit(s[j]) ? i : nil
    }

    private static func isBoundaryBefore(_ s: [Unicode.Scalar], _ start: Int) -> Bool {
        guard start > 0 else { return true }
        let prev = s[start - 1]
        if isAlphanumeric(prev) || prev == "_" || prev == "#" || prev == "+" { return false }
        if prev.properties.generalCategory == .currencySymbol { return false }
        if prev == "-" || prev == "/" || prev == "." {
            return start < 2 || !(isAlphanumeric(s[start - 2]) || s[start - 2] == "_")
        }
        return true
    }

    private static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isAlphanumeric(c) || c == "_" || c == "-" || c == "/" || c == "." || c == "#"
    }

    /// Reads digit groups from `start` (which is a digit, `+` or `(`). Always returns at least one group.
    private static func scanRun(_ s: [Unicode.Scalar], from start: Int) -> [Group] {
        var groups: [Group] = []
        var i = start
        var spanStart = start
        var separator: [Unicode.Scalar] = []
        if s[i] == "+" { separator.append("+"); i += 1 }
        if s[i] == "(" { separator.append("("); i += 1 }
        while true {
            let digitsStart = i
            while i < s.count, isDigit(s[i]) { i += 1 }
            groups.append(Group(start: digitsStart, end: i, spanStart: spanStart, separatorBefore: separator))
            // Separator: `)`? then up to three spaces (read as one), or one dash, dot, slash or underscore? then
            // `(`? — and a digit right after.
            var j = i
            separator = []
            if j < s.count, s[j] == ")" { separator.append(")"); j += 1 }
            if j < s.count, s[j] == " " {
                separator.append(" ")
                var spaces = 0
                while j < s.count, s[j] == " ", spaces < 3 { j += 1; spaces += 1 }
            } else if j < s.count, s[j] == "-" || s[j] == "." || s[j] == "/" || s[j] == "_" {
                separator.append(s[j])
                j += 1
            }
            let nextSpanStart = j
            if j < s.count, s[j] == "(" { separator.append("("); j += 1 }
            guard !separator.isEmpty, j < s.count, isDigit(s[j]) else { return groups }
            spanStart = separator.last == "(" ? nextSpanStart : j
            i = j
        }
    }

    /// Non-overlapping spans (start, end, token) to replace, in order.
    private static func spansToMask(
        _ s: [Unicode.Scalar], _ groups: [Group], lastGroupUsable: Bool
    ) -> [(Int, Int, String)] {
        let usable = lastGroupUsable ? groups.count : groups.count - 1
        var spans: [(Int, Int, String)] = []
        var g = 0
        while g < usable {
            if let skip = notPersonalNumber(groups, at: g) { g += skip; continue }
            if let end = cardSpan(s, groups, from: g, upTo: usable) {
                spans.append((groups[g].start, groups[end - 1].end, cardToken))
                g = end
                continue
            }
            if let end = phoneSpan(groups, from: g, upTo: usable) {
                spans.append((groups[g].spanStart, groups[end - 1].end, phoneToken))
                g = end
                continue
            }
            g += 1
        }
        return spans
    }

    /// Number of groups to skip when the groups at `g` form a date (2025-03-12, 12.03.2025) or an IPv4 address.
    private static func notPersonalNumber(_ groups: [Group], at g: Int) -> Int? {
        func separator(_ index: Int) -> [Unicode.Scalar] { groups[index].separatorBefore }
        // A number written with a leading + is an international phone number, whatever its groups look like.
        if groups[0].separatorBefore.first == "+" { return nil }
        if g + 3 < groups.count, (1...3).allSatisfy({ separator(g + $0) == ["."] }),
           (0...3).allSatisfy({ (1...3).contains(groups[g + $0].digitCount) }) {
            return 4
        }
        if g + 2 < groups.count, separator(g + 1) == separator(g + 2),
           separator(g + 1) == ["-"] || separator(g + 1) == ["."] || separator(g + 1) == ["/"] {
            let lengths = (groups[g].digitCount, groups[g + 1].digitCount, groups[g + 2].digitCount)
            switch lengths {
            case (4, 1...2, 1...2), (1...2, 1...2, 4), (1...2, 1...2, 2): return 3
            default: break
            }
        }
        return nil
    }

    /// The longest span of groups from `g` that is a Luhn-valid card number, as the end group index.
    private static func cardSpan(_ s: [Unicode.Scalar], _ groups: [Group], from g: Int, upTo usable: Int) -> Int? {
        if g == 0, !groups[0].separatorBefore.isEmpty { return nil }  // a leading + or ( is not a card
        var digits = 0
        var candidates: [Int] = []
        var end = g
        while end < usable {
            if end > g {
                let separator = groups[end].separatorBefore
                guard separator.count == 1, separator != ["("] else { break }
            }
            digits += groups[end].digitCount
            if digits > 19 { break }
            end += 1
            if digits >= 13 { candidates.append(end) }
        }
        for candidate in candidates.reversed() where isLuhnValid(s, groups[g..<candidate]) {
            return candidate
        }
        return nil
    }

    private static func isLuhnValid(_ s: [Unicode.Scalar], _ groups: ArraySlice<Group>) -> Bool {
        var sum = 0
        var double = false
        for group in groups.reversed() {
            for index in stride(from: group.end - 1, through: group.start, by: -1) {
                var d = Int(s[index].value) - 48
                if double {
                    d *= 2
                    if d > 9 { d -= 9 }
                }
                sum += d
                double.toggle()
            }
        }
        return sum % 10 == 0
    }

    /// The longest span of groups from `g` holding 9–15 digits, as the end group index.
    private static func phoneSpan(_ groups: [Group], from g: Int, upTo usable: Int) -> Int? {
        var digits = 0
        var best: Int?
        var end = g
        while end < usable {
            if end > g, groups[end].separatorBefore.contains("_") { break }
            digits += groups[end].digitCount
            if digits > 15 { break }
            end += 1
            if digits >= 9 { best = end }
        }
        return best
    }

    // MARK: - Characters

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { (c.value | 0x20) >= 97 && (c.value | 0x20) <= 122 }

    private static func isASCIIAlphanumeric(_ c: Unicode.Scalar) -> Bool { isDigit(c) || isLetter(c) }

    /// Full-width digits (０–９) as plain ones, and tabs and no-break or wide spaces as plain spaces; else `c`.
    private static func fold(_ c: Unicode.Scalar) -> Unicode.Scalar {
        switch c.value {
        case 0xFF10...0xFF19: return Unicode.Scalar(c.value - 0xFF10 + 48)!
        case 0x09, 0xA0, 0x2007, 0x202F, 0x3000: return " "
        default: return c
        }
    }

    private static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool {
        isDigit(c) || c.properties.isAlphabetic
    }
}
