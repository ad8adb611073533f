import Foundation
import SupportBotCore
import Testing
@testable import SupportBotStore

@Suite("The folder of what engines learned")
struct LearningFolderTests {
    /// The demo knowledge base, read from the repository's files.
    static let demo = Result {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try KnowledgeLoader.load(intentsDirectory: root.appendingPathComponent("intents").path,
                                        knowledgeDirectory: root.appendingPathComponent("knowledge").path)
    }

    private func learningFiles(_ folder: TemporaryFolder) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".learning") }
    }

    @Test("the first build writes what it learned; the next one reads it and answers the same")
    func secondBuildReadsTheFirst() throws {
        let temporary = try TemporaryFolder()
        let folder = LearningFolder(url: URL(fileURLWithPath: temporary.path), build: "test build")
        let demo = try Self.demo.get()
        let first = folder.engine(for: demo, version: 1)
        #expect(learningFiles(temporary).count == 1)
        let key = try #require(MatcherLearning.key(for: demo, build: "test build"))
        #expect(folder.read(key: key) == first.matcher.learning)
        let second = folder.engine(for: demo, version: 1)
        #expect(second.matcher.learning == first.matcher.learning)
        for question in ["where is my parcel", "what is the capital of france", "wher is my packge"] {
            #expect(second.matcher.match(question) == first.matcher.match(question))
        }
        // Another program build keeps its own.
        _ = LearningFolder(url: URL(fileURLWithPath: temporary.path), build: "another build").engine(for: demo, version: 1)
        #expect(learningFiles(temporary).count == 2)
    }

    @Test("a damaged file is learned again and written anew; an unwritable folder only costs the time")
    func damagedFileIsReplaced() throws {
        let temporary = try TemporaryFolder()
        let folder = LearningFolder(url: URL(fileURLWithPath: temporary.path), build: "test build")
        let demo = try Self.demo.get()
        let key = try #require(MatcherLearning.key(for: demo, build: "test build"))
        let file = temporary.file("\(key).learning")
        try Data("not a learning".utf8).write(to: URL(fileURLWithPath: file))
        let engine = folder.engine(for: demo, version: 1)
        #expect(folder.read(key: key) == engine.matcher.learning)

        try Data().write(to: URL(fileURLWithPath: temporary.file("plain-file")))
        let blocked = LearningFolder(url: URL(fileURLWithPath: temporary.file("plain-file/below")), build: "test build")
        #expect(blocked.engine(for: demo, version: 1).matcher.learning == engine.matcher.learning)
    }

    @Test("at most `capacity` files are kept: the least recently used go")
    func folderIsTrimmed() throws {
        let temporary = try TemporaryFolder()
        let folder = LearningFolder(url: URL(fileURLWithPath: temporary.path), build: "test build")
        let learning = Matcher(knowledgeBase: KnowledgeBase(intents: [
            Intent(id: "a", title: "A", examples: ["where is my parcel"], response: .reply("Here.")),
            Intent(id: "b", title: "B", examples: ["can i pay by card"], response: .reply("Yes.")),
        ])).learning
        for i in 0..<(LearningFolder.capacity + 3) {
            folder.write(learning, key: "key\(i)")
            // Each file used a second after the one before, without waiting for the clock.
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(1_000 + i))],
                                                  ofItemAtPath: temporary.file("key\(i).learning"))
        }
        folder.trim()
        let kept = Set(learningFiles(temporary))
        #expect(kept.count == LearningFolder.capacity)
        #expect(!kept.contains("key0.learning") && !kept.contains("key2.learning"))
        #expect(kept.contains("key3.learning") && kept.contains("key\(LearningFolder.capacity + 2).learning"))
    }

    @Test("where the folder is: SUPPORTBOT_CACHE_DIR, XDG_CACHE_HOME, then ~/.cache")
    func standardFolder() {
        #expect(LearningFolder.standard(environment: ["SUPPORTBOT_CACHE_DIR": "/x/y", "HOME": "/home/a"])?.url.path == "/x/y")
        #expect(LearningFolder.standard(environment: ["SUPPORTBOT_CACHE_DIR": "off", "HOME": "/home/a"]) == nil)
        #expect(LearningFolder.standard(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/home/a"])?.url.path == "/c/supportbot")
        #expect(LearningFolder.standard(environment: ["HOME": "/home/a"])?.url.path == "/home/a/.cache/supportbot")
        #expect(LearningFolder.standard(environment: [:]) == nil)
        // A program that can't be told apart from another build keeps nothing.
        #expect(LearningFolder.standard(environment: ["HOME": "/home/a"], build: nil) == nil)
    }
}
