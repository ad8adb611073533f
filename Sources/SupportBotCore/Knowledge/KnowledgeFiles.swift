import Foundation

/// Reads the knowledge files from disk into `[relative path: content]`, e.g. `intents/orders.yml`.
/// Keeping the read separate lets the loader parse a stored snapshot the same way it parses a folder.
public enum KnowledgeFiles {
    public static func read(intentsDirectory: String, knowledgeDirectory: String) throws -> [String: String] {
        var files: [String: String] = [:]
        try collect(root: intentsDirectory, prefix: "intents", extensions: ["yml", "yaml"], into: &files)
        try collect(root: knowledgeDirectory, prefix: "knowledge", extensions: ["md", "yml", "yaml"], into: &files)
        return files
    }

    private static func collect(root: String, prefix: String, extensions: Set<String>,
                                into files: inout [String: String]) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw KnowledgeBaseError(issues: [KnowledgeIssue(
                SourceLocation(file: root),
                "folder not found. Run from the folder that holds \(prefix)/, or pass --\(prefix) with its path.")])
        }
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        guard let enumerator = fm.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return
        }
        var issues: [KnowledgeIssue] = []
        for case let url as URL in enumerator {
            guard extensions.contains(url.pathExtension.lowercased()),
                  (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = url.standardizedFileURL.path.dropFirst(rootURL.path.count)
                .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            let key = prefix + "/" + relative
            guard let data = fm.contents(atPath: url.path) else {
                issues.append(KnowledgeIssue(SourceLocation(file: key), "can't read this file (check its permissions)"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                issues.append(KnowledgeIssue(SourceLocation(file: key), "is not UTF-8 text. Save it as UTF-8."))
                continue
            }
            files[key] = text
        }
        if !issues.isEmpty { throw KnowledgeBaseError(issues: issues) }
    }
}
