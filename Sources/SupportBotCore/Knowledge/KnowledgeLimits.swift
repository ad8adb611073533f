import Foundation
import Yams

/// How much a knowledge base may hold, so a file written by mistake (or on purpose) is refused with a clear message
/// instead of taking the machine's memory or minutes of CPU.
public enum KnowledgeLimits {
    /// An intents, settings, synonyms or tests file.
    public static let maxYAMLBytes = 1 << 20
    /// An article (about 40,000 words).
    public static let maxArticleBytes = 256 << 10
    /// The text a YAML file may hold once its aliases (`*name`) are written out.
    public static let maxExpandedYAMLBytes = 4 << 20
    /// Examples of one intent (lint compares each with the others).
    public static let maxExamplesPerIntent = 1_000

    static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MB", Double(bytes) / Double(1 << 20)) : "\((bytes + 1023) / 1024) KB"
    }

    /// A YAML file that expands to more than `maxExpandedYAMLBytes`.
    struct TooMuchYAML: Error {
        var line: Int?
        var message: String
    }

    /// Composes YAML, refusing a document whose aliases would expand it past `maxExpandedYAMLBytes` (50,000 copies
    /// of one 5 KB example are 250 MB of text to read, check and learn).
    static func compose(_ text: String) throws -> Node? {
        guard let root = try Yams.compose(yaml: text) else { return nil }
        var budget = maxExpandedYAMLBytes
        if let line = overBudget(root, &budget) {
            throw TooMuchYAML(line: line, message: "this YAML repeats itself too much: written out, its aliases "
                + "(like *name) come to more than \(describe(maxExpandedYAMLBytes)) of text. Write the text out instead.")
        }
        return root
    }

    /// Spends each scalar's length from `budget`; the line where it ran out, or nil.
    private static func overBudget(_ node: Node, _ budget: inout Int) -> Int?? {
        switch node {
        case .scalar(let scalar):
            budget -= scalar.string.utf8.count + 1
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let line = overBudget(key, &budget) { return line }
                if let line = overBudget(value, &budget) { return line }
            }
        case .sequence(let sequence):
            for item in sequence {
                if let line = overBudget(item, &budget) { return line }
            }
        case .alias:
            budget -= 1
        }
        return budget < 0 ? .some(node.mark?.line) : nil
    }
}
