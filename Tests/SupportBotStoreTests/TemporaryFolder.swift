import Foundation

/// A fresh folder under the system temporary directory, removed when the test is done.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "SupportBotStoreTests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

extension Date {
    /// A fixed, whole-second point in time, `seconds` after 2025-03-12 10:00:00 UTC.
    static func fixture(_ seconds: Double = 0) -> Date { Date(timeIntervalSince1970: 1_741_773_600 + seconds) }
}
