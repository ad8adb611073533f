/// Line diffs between two knowledge-base versions, in the unified format `diff -u` and git print.
public enum UnifiedDiff {
    /// The unified diff of one file (empty when the texts are equal). A file missing on one side is compared
    /// with an empty text and shown as /dev/null.
    public static func file(_ path: String, old: String?, new: String?, context: Int = 3) -> String {
        guard old != new else { return "" }
        let a = old.map(lines) ?? []
        let b = new.map(lines) ?? []
        let edits = script(a, b)
        var out = "--- \(old == nil ? "/dev/null" : "a/\(path)")\n+++ \(new == nil ? "/dev/null" : "b/\(path)")\n"
        // Group the edit script into hunks with `context` unchanged lines around each change.
        var index = 0
        while index < edits.count {
            guard let firstChange = edits[index...].firstIndex(where: { $0.kind != .same }) else { break }
            let start = max(index, firstChange - context)
            var end = firstChange
            var lastChange = firstChange
            while end < edits.count {
                if edits[end].kind != .same { lastChange = end }
                if end - lastChange > 2 * context { break }
                end += 1
            }
            end = min(edits.count, lastChange + context + 1)
            let hunk = edits[start..<end]
            let oldStart = hunk.first.map { $0.oldLine } ?? 0
            let newStart = hunk.first.map { $0.newLine } ?? 0
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .delete }.count
            // As diff -u: a range of one line is written without ",1"; an empty range names the line before it.
            func range(_ start: Int, _ count: Int) -> String {
                count == 1 ? "\(start + 1)" : "\(count == 0 ? start : start + 1),\(count)"
            }
            out += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
            for edit in hunk {
                switch edit.kind {
                case .same: out += " \(edit.text)\n"
                case .delete: out += "-\(edit.text)\n"
                case .insert: out += "+\(edit.text)\n"
                }
            }
            index = end
        }
        return out
    }

    struct Edit {
        enum Kind { case same, delete, insert }
        var kind: Kind
        var text: String
        /// Lines of the old and new text before this edit (0-based positions).
        var oldLine: Int
        var newLine: Int
    }

    static func lines(_ text: String) -> [String] {
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if result.last == "" { result.removeLast() }
        return result
    }

    /// A shortest edit script by longest common subsequence (files here are small).
    static func script(_ a: [String], _ b: [String]) -> [Edit] {
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var edits: [Edit] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count && j < b.count && a[i] == b[j] {
                edits.append(Edit(kind: .same, text: a[i], oldLine: i, newLine: j))
                i += 1
                j += 1
            } else if i < a.count && (j == b.count || lcs[i + 1][j] >= lcs[i][j + 1]) {
                // Removed lines come before added ones, as in `diff -u`.
                edits.append(Edit(kind: .delete, text: a[i], oldLine: i, newLine: j))
                i += 1
            } else {
                edits.append(Edit(kind: .insert, text: b[j], oldLine: i, newLine: j))
                j += 1
            }
        }
        return edits
    }
}
