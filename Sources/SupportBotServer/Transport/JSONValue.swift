import SupportBotCore

/// A small, ordered JSON writer: keys come out in the order given, so lines read well in `nc`
/// (`type` first), and no reflection is needed on the hot path.
enum JSONValue: Sendable, Equatable, ExpressibleByStringLiteral {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    init(stringLiteral value: String) { self = .string(value) }

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        var a: [UInt8] = [], b: [UInt8] = []
        lhs.write(into: &a)
        rhs.write(into: &b)
        return a == b
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case .string(let s): Self.writeString(s, into: &out)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite {
                let rounded = (d * 1000).rounded() / 1000
                out.append(contentsOf: (rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)).utf8)
            } else {
                out.append(contentsOf: "0".utf8)
            }
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(pair.0, into: &out)
                out.append(UInt8(ascii: ":"))
                pair.1.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }


    static func writeString(_ s: String, into out: inout [UInt8]) { JSONText.appendString(s, to: &out) }
}
