import Foundation

/// Reads the knowledge files from disk into `[relative path: content]`, e.g. `intents/orders.yml`.
/// Keeping the read separate lets the loader parse a stored snapshot the same way it parses a folder.
public enum KnowledgeFiles {
    public static func read(intentsDirectory: String, knowledgeDirectory: String) throws -> [String: String] {
        var files: [String: String] = [:]
        try collect(root: intentsDirectory, prefix: "intents", extensions: intentExtensions, into: &files)
        try collect(root: knowledgeDirectory, prefix: "knowledge", extensions: knowledgeExtensions, into: &files)
        return files
    }

    /// The knowledge files that `read` would read, by the same keys, without reading them. A folder that is
    /// missing has none.
    public static func paths(intentsDirectory: String, knowledgeDirectory: String) -> [String: URL] {
        var paths: [String: URL] = [:]
        for (root, prefix, extensions) in [(intentsDirectory, "intents", intentExtensions),
                                           (knowledgeDirectory, "knowledge", knowledgeExtensions)] {
            for (key, url) in files(under: root, prefix: prefix, extensions: extensions) { paths[key] = url }
        }
        return paths
    }

    private static let intentExtensions: Set<String> = ["yml", "yaml"]
    private static let knowledgeExtensions: Set<String> = ["md", "yml", "yaml"]

    /// The regular files under `root` with one of `extensions`, keyed `prefix/relative path`.
    private static func files(under root: String, prefix: String, extensions: Set<String>) -> [(key: String, url: URL)] {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var found: [(key: String, url: URL)] = []
        for case let url as URL in enumerator {
            guard extensions.contains(url.pathExtension.lowercased()),
                  (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = url.standardizedFileURL.path.dropFirst(rootURL.path.count)
                .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            found.append((prefix + "/" + relative, url))
        }
        return found
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
        var issues: [KnowledgeIssue] = []
        for (key, url) in Self.files(under: root, prefix: prefix, extensions: extensions) {
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
