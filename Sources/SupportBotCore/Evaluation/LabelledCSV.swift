/// A labelled example from a `text,label` CSV file (quoted CSV as in RFC 4180, UTF-8, with a header).
public struct LabelledText: Sendable, Equatable {
    public var text: String
    public var label: String
    public init(text: String, label: String) {
        self.text = text
        self.label = label
    }
}

public struct CSVError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

public enum LabelledCSV {
    /// Parses CSV text whose header names a `text` and a `label` column (any order, other columns ignored).
    /// `labelColumn` names the label column when it is not called "label".
    public static func parse(_ content: String, file: String = "CSV", labelColumn labelName: String = "label") throws
        -> [LabelledText] {
        let rows = try records(content, file: file)
        guard let header = rows.first else { throw CSVError(description: "\(file): the file is empty") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let textColumn = names.firstIndex(of: "text"), let labelColumn = names.firstIndex(of: labelName) else {
            throw CSVError(description:
                "\(file):1: the header must name a 'text' and a '\(labelName)' column, like: text,\(labelName)")
        }
        var result: [LabelledText] = []
        for (index, row) in rows.dropFirst().enumerated() {
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count > max(textColumn, labelColumn) else {
                throw CSVError(description: "\(file):\(index + 2): expected \(names.count) columns, found \(row.count)")
            }
            let label = row[labelColumn].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { throw CSVError(description: "\(file):\(index + 2): the label is empty") }
            result.append(LabelledText(text: row[textColumn], label: label))
        }
        return result
    }

    /// Splits CSV into rows of fields; quoted fields may hold commas, quotes ("") and newlines.
    public static func records(_ content: String, file: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var iterator = content.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func nextScalar() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        var fieldScalars = String.UnicodeScalarView()
        while let c = nextScalar() {
            if inQuotes {
                if c == "\"" {
                    if let n = nextScalar() {
                        if n == "\"" { fieldScalars.append("\"") } else { inQuotes = false; pending = n }
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    fieldScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where fieldScalars.isEmpty:
                inQuotes = true
            case ",":
                field = String(fieldScalars)
                row.append(field)
                fieldScalars = String.UnicodeScalarView()
            case "\r":
                continue
            case "\n":
                row.append(String(fieldScalars))
                fieldScalars = String.UnicodeScalarView()
                rows.append(row)
                row = []
                line += 1
            default:
                fieldScalars.append(c)
            }
        }
        if inQuotes { throw CSVError(description: "\(file):\(line): a quoted field never ends (a \" is missing)") }
        if !fieldScalars.isEmpty || !row.isEmpty {
            row.append(String(fieldScalars))
            rows.append(row)
        }
        return rows
    }
}
