/// Writing JSON by hand where `JSONEncoder` is too slow for the hot path (every message's stored context, every
/// line on the wire).
public enum JSONText {
    /// Appends `s` as a JSON string, quotes included: `"`, `\\` and control characters escaped, the rest as UTF-8.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Runs of bytes that need no escape (most text is one run) are copied whole.
        var text = s
        text.withUTF8 { bytes in
            var run = 0
            for (i, byte) in bytes.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[run..<i])
                run = i + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
                case UInt8(ascii: "\n"): out.append(contentsOf: [92, 110])
                case UInt8(ascii: "\r"): out.append(contentsOf: [92, 114])
                case UInt8(ascii: "\t"): out.append(contentsOf: [92, 116])
                default: out.append(contentsOf: [92, 117, 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                }
            }
            out.append(contentsOf: bytes[run...])
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)
}
