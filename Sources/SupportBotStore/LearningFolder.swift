import Foundation
import SupportBotCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder of what engines learned (`MatcherLearning`), one file per knowledge-base content and program build.
///
/// Learning the classifier and the doubt model is most of an engine's build (about a second of CPU for the demo in
/// a debug build). With this folder a process that builds the engine of the same files again (`supportbot ask`,
/// `kb test`, `kb publish`, a server swapping in the version just published) reads it back in milliseconds. A kept
/// learning answers exactly as a fresh one (same weights to the last bit). It is only a cache: a file that is
/// missing, damaged or from another build of the program is learned again and written anew, and the folder can be
/// deleted at any time.
public struct LearningFolder: Sendable {
    public let url: URL
    /// Which program learned it (see `programBuild`): part of every key.
    public let build: String

    /// At most this many files are kept; the least recently used go first.
    public static let capacity = 32
    static let fileExtension = "learning"

    public init(url: URL, build: String) {
        self.url = url
        self.build = build
    }

    /// `SUPPORTBOT_CACHE_DIR` (`off` for none), else `$XDG_CACHE_HOME/supportbot`, else `~/.cache/supportbot`.
    /// Nil also when the running program can't be identified (`programBuild`).
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment,
                                build: String? = LearningFolder.programBuild) -> LearningFolder? {
        guard let build else { return nil }
        if let folder = environment["SUPPORTBOT_CACHE_DIR"], !folder.isEmpty {
            return folder == "off" ? nil : LearningFolder(url: URL(fileURLWithPath: folder), build: build)
        }
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") {
            return LearningFolder(url: URL(fileURLWithPath: cache).appendingPathComponent("supportbot"), build: build)
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return LearningFolder(url: URL(fileURLWithPath: home).appendingPathComponent(".cache/supportbot"), build: build)
    }

    /// The running program: its path, size and modification time (a rebuilt program may learn differently, so it
    /// never reads what an older build learned).
    /// Nil when the program can't be found: then nothing is kept (every build would share one identity).
    public static let programBuild: String? = {
        guard let path = Bundle.main.executablePath else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        return "\(path) \(info.st_size) \(info.st_ino) \(modified.tv_sec).\(modified.tv_nsec)"
    }()

    /// An engine for `knowledgeBase`, built with the standard folder's learning when there is one.
    public static func engine(for knowledgeBase: KnowledgeBase, version: Int,
                              build: EngineBuild = .allCores) -> SupportEngine {
        guard let folder = standard() else { return SupportEngine(knowledgeBase: knowledgeBase, version: version, build: build) }
        return folder.engine(for: knowledgeBase, version: version, build: build)
    }

    /// An engine for `knowledgeBase`, taking what an earlier build of the same files learned, and keeping what this
    /// one learned when there was nothing to take.
    public func engine(for knowledgeBase: KnowledgeBase, version: Int, build: EngineBuild = .allCores) -> SupportEngine {
        guard let key = MatcherLearning.key(for: knowledgeBase, build: self.build) else {
            return SupportEngine(knowledgeBase: knowledgeBase, version: version, build: build)
        }
        let kept = read(key: key)
        let engine = SupportEngine(knowledgeBase: knowledgeBase, version: version, build: build, learned: kept)
        if kept == nil || engine.matcher.learning != kept { write(engine.matcher.learning, key: key) }
        return engine
    }

    /// The learning kept under `key`, or nil (none, unreadable or damaged).
    func read(key: String) -> MatcherLearning? {
        let file = url.appendingPathComponent("\(key).\(Self.fileExtension)")
        guard let data = FileManager.default.contents(atPath: file.path),
              let learning = MatcherLearning(serialized: [UInt8](data), key: key) else { return nil }
        // Used now: the last to be let go.
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: file.path)
        return learning
    }

    /// Writes a learning in one step (a temporary file renamed over the old one), then trims the folder. A folder
    /// that can't be written is left alone: the next process learns again.
    func write(_ learning: MatcherLearning, key: String) {
        let manager = FileManager.default
        guard (try? manager.createDirectory(at: url, withIntermediateDirectories: true)) != nil else { return }
        let file = url.appendingPathComponent("\(key).\(Self.fileExtension)")
        let temporary = url.appendingPathComponent(".\(key).\(UUID().uuidString).tmp")
        guard manager.createFile(atPath: temporary.path, contents: Data(learning.serialized(key: key))) else { return }
        if rename(temporary.path, file.path) != 0 {
            try? manager.removeItem(at: temporary)
            return
        }
        trim()
    }

    /// Keeps the `capacity` most recently used files, and removes temporary files left by a process that stopped
    /// while writing (older than an hour).
    func trim() {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: url.path) else { return }
        var kept: [(path: String, used: Date)] = []
        for name in names {
            let path = url.appendingPathComponent(name).path
            let used = (try? manager.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            if name.hasSuffix(".\(Self.fileExtension)") {
                kept.append((path, used))
            } else if name.hasPrefix("."), name.hasSuffix(".tmp"), used < Date(timeIntervalSinceNow: -3600) {
                try? manager.removeItem(atPath: path)
            }
        }
        guard kept.count > Self.capacity else { return }
        for file in kept.sorted(by: { $0.used > $1.used }).dropFirst(Self.capacity) {
            try? manager.removeItem(atPath: file.path)
        }
    }
}
