/// The Porter stemming algorithm (M. F. Porter, 1980), as published, with the "bli"/"logi" revisions.
/// Reduces English words to a common stem: "refunds", "refunded", "refunding" -> "refund".
/// Words with characters outside a–z are returned unchanged.
public enum PorterStemmer {
    public static func stem(_ word: String) -> String {
        let utf8 = Array(word.utf8)
        guard utf8.count > 2, utf8.allSatisfy({ $0 >= 97 && $0 <= 122 }) else { return word }
        var stemmer = Run(b: utf8)
        stemmer.run()
        return String(decoding: stemmer.b[0...stemmer.k], as: UTF8.self)
    }

    private struct Run {
        var b: [UInt8]
        var k: Int
        var j = 0

        init(b: [UInt8]) {
            self.b = b
            self.k = b.count - 1
        }

        func isConsonant(_ i: Int) -> Bool {
            switch b[i] {
            case 97, 101, 105, 111, 117: return false // a e i o u
            case 121: return i == 0 ? true : !isConsonant(i - 1) // y
            default: return true
            }
        }

        /// Number of vowel-consonant sequences in b[0...j].
        func measure() -> Int {
            var n = 0
            var i = 0
            while true {
                if i > j { return n }
                if !isConsonant(i) { break }
                i += 1
            }
            i += 1
            while true {
                while true {
                    if i > j { return n }
                    if isConsonant(i) { break }
                    i += 1
                }
                i += 1
                n += 1
                while true {
                    if i > j { return n }
                    if !isConsonant(i) { break }
                    i += 1
                }
                i += 1
            }
        }

        func vowelInStem() -> Bool {
            guard j >= 0 else { return false }
            for i in 0...j where !isConsonant(i) { return true }
            return false
        }

        func doubleConsonant(_ i: Int) -> Bool {
            i >= 1 && b[i] == b[i - 1] && isConsonant(i)
        }

        /// consonant-vowel-consonant ending at i, where the last consonant is not w, x or y.
        func cvc(_ i: Int) -> Bool {
            if i < 2 || !isConsonant(i) || isConsonant(i - 1) || !isConsonant(i - 2) { return false }
            let ch = b[i]
            return ch != 119 && ch != 120 && ch != 121
        }

        mutating func ends(_ s: String) -> Bool {
            // Byte by byte, with no arrays made: this runs dozens of times per word.
            let suffix = s.utf8
            let length = suffix.count
            if length > k + 1 { return false }
            var i = k - length + 1
            for byte in suffix {
                if b[i] != byte { return false }
                i += 1
            }
            j = k - length
            return true
        }

        mutating func setTo(_ s: String) {
            let replacement = Array(s.utf8)
            b.removeSubrange((j + 1)...)
            b.append(contentsOf: replacement)
            k = j + replacement.count
        }

        mutating func replace(_ s: String) {
            if measure() > 0 { setTo(s) }
        }

        mutating func run() {
            guard k > 1 else { return }
            step1ab()
            if k > 0 {
                step1c()
                step2()
                step3()
                step4()
                step5()
            }
        }

        mutating func step1ab() {
            if b[k] == 115 { // s
                if ends("sses") {
                    k -= 2
                } else if ends("ies") {
                    setTo("i")
                } else if b[k - 1] != 115 {
                    k -= 1
                }
                b.removeSubrange((k + 1)...)
            }
            if ends("eed") {
                if measure() > 0 { k -= 1; b.removeSubrange((k + 1)...) }
            } else if (ends("ed") || ends("ing")) && vowelInStem() {
                k = j
                b.removeSubrange((k + 1)...)
                if ends("at") {
                    setTo("ate")
                } else if ends("bl") {
                    setTo("ble")
                } else if ends("iz") {
                    setTo("ize")
                } else if doubleConsonant(k) {
                    let ch = b[k]
                    if ch != 108 && ch != 115 && ch != 122 { k -= 1; b.removeSubrange((k + 1)...) }
                } else {
                    j = k
                    if measure() == 1 && cvc(k) { setTo("e") }
                }
            }
        }

        mutating func step1c() {
            if ends("y") && vowelInStem() { b[k] = 105 }
        }

        mutating func step2() {
            guard k >= 1 else { return }
            switch b[k - 1] {
            case 97: // a
                if ends("ational") { replace("ate"); break }
                if ends("tional") { replace("tion") }
            case 99: // c
                if ends("enci") { replace("ence"); break }
                if ends("anci") { replace("ance") }
            case 101: // e
                if ends("izer") { replace("ize") }
            case 108: // l
                if ends("bli") { replace("ble"); break }
                if ends("alli") { replace("al"); break }
                if ends("entli") { replace("ent"); break }
                if ends("eli") { replace("e"); break }
                if ends("ousli") { replace("ous") }
            case 111: // o
                if ends("ization") { replace("ize"); break }
                if ends("ation") { replace("ate"); break }
                if ends("ator") { replace("ate") }
            case 115: // s
                if ends("alism") { replace("al"); break }
                if ends("iveness") { replace("ive"); break }
                if ends("fulness") { replace("ful"); break }
                if ends("ousness") { replace("ous") }
            case 116: // t
                if ends("aliti") { replace("al"); break }
                if ends("iviti") { replace("ive"); break }
                if ends("biliti") { replace("ble") }
            case 103: // g
                if ends("logi") { replace("log") }
            default:
                break
            }
        }

        mutating func step3() {
            switch b[k] {
            case 101: // e
                if ends("icate") { replace("ic"); break }
                if ends("ative") { replace(""); break }
                if ends("alize") { replace("al") }
            case 105: // i
                if ends("iciti") { replace("ic") }
            case 108: // l
                if ends("ical") { replace("ic"); break }
                if ends("ful") { replace("") }
            case 115: // s
                if ends("ness") { replace("") }
            default:
                break
            }
        }

        mutating func step4() {
            guard k >= 1 else { return }
            var matched = false
            switch b[k - 1] {
            case 97: matched = ends("al")
            case 99: matched = ends("ance") || ends("ence")
            case 101: matched = ends("er")
            case 105: matched = ends("ic")
            case 108: matched = ends("able") || ends("ible")
            case 110: matched = ends("ant") || ends("ement") || ends("ment") || ends("ent")
            case 111:
                if ends("ion") && j >= 0 && (b[j] == 115 || b[j] == 116) {
                    matched = true
                } else {
                    matched = ends("ou")
                }
            case 115: matched = ends("ism")
            case 116: matched = ends("ate") || ends("iti")
            case 117: matched = ends("ous")
            case 118: matched = ends("ive")
            case 122: matched = ends("ize")
            default: matched = false
            }
            if matched && measure() > 1 {
                k = j
                b.removeSubrange((k + 1)...)
            }
        }

        mutating func step5() {
            j = k
            if b[k] == 101 { // e
                let m = measure()
                // Only k moves here: `measure()` below still reads up to j, the old end.
                if m > 1 || (m == 1 && !cvc(k - 1)) { k -= 1 }
            }
            if b[k] == 108 && doubleConsonant(k) && measure() > 1 { k -= 1 } // l
        }
    }
}
