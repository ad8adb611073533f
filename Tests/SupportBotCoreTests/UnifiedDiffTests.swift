import Testing
@testable import SupportBotCore

@Suite("Unified diff")
struct UnifiedDiffTests {
    @Test("a changed line in the middle of a file, with three lines of context, as diff -u prints it")
    func changedLine() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "line 5\n", with: "line five\n")
        #expect(UnifiedDiff.file("a.md", old: old, new: new) == """
            --- a/a.md
            +++ b/a.md
            @@ -2,7 +2,7 @@
             line 2
             line 3
             line 4
            -line 5
            +line five
             line 6
             line 7
             line 8

            """)
    }

    @Test("new and removed files are compared with /dev/null; equal files give nothing")
    func newAndRemovedFiles() {
        #expect(UnifiedDiff.file("n.md", old: nil, new: "a\nb\n") == "--- /dev/null\n+++ b/n.md\n@@ -0,0 +1,2 @@\n+a\n+b\n")
        #expect(UnifiedDiff.file("r.md", old: "a\n", new: nil) == "--- a/r.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n")
        #expect(UnifiedDiff.file("s.md", old: "same\n", new: "same\n").isEmpty)
    }

    @Test("changes far apart make two hunks")
    func twoHunks() {
        let old = (1...20).map { "\($0)" }.joined(separator: "\n")
        let new = old.replacingOccurrences(of: "\n2\n", with: "\ntwo\n").replacingOccurrences(of: "\n19\n", with: "\nnineteen\n")
        let diff = UnifiedDiff.file("x", old: old, new: new)
        #expect(diff.components(separatedBy: "\n@@ ").count == 3, "\(diff)")
        #expect(diff.contains("@@ -1,5 +1,5 @@"))
        #expect(diff.contains("@@ -16,5 +16,5 @@"))
    }
}
