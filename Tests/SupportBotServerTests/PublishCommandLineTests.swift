import Foundation
import SupportBotCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A copy of the demo knowledge base in a temp folder, to edit and publish.
private func demoCopy(in folder: TemporaryDirectory) throws -> (intents: String, knowledge: String) {
    let root = SupportBotCLI.repositoryRoot
    for name in ["intents", "knowledge"] {
        try FileManager.default.copyItem(at: root.appendingPathComponent(name), to: folder.url.appendingPathComponent(name))
    }
    return (folder.path("intents"), folder.path("knowledge"))
}

private func edit(_ path: String, replacing old: String, with new: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
}

@Suite("supportbot kb publish, versions, diff, rollback, export, and the server swapping versions",
       .timeLimit(.minutes(10)))
struct PublishCommandLineTests {
    @Test("publish stores versions; diff shows the change; rollback republishes; export writes the files")
    func versions() async throws {
        let folder = try TemporaryDirectory()
        let kb = try demoCopy(in: folder)
        let db = folder.path("kb.sqlite")
        let paths = ["--intents", kb.intents, "--knowledge", kb.knowledge, "--db", db]
        let first = try await SupportBotCLI.run(["kb", "publish", "-m", "first"] + paths + ["--author", "ana"], folder: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Published version 1"))
        let same = try await SupportBotCLI.run(["kb", "publish", "-m", "again"] + paths, folder: folder)
        #expect(same.stdout.contains("Nothing changed since version 1"))

        try edit(kb.knowledge + "/orders/change-items.md", replacing: "Is your order not packed yet?",
                 with: "Has your order not been packed?")
        let second = try await SupportBotCLI.run(["kb", "publish", "-m", "reword"] + paths, folder: folder)
        #expect(second.stdout.contains("Published version 2"))

        let diff = try await SupportBotCLI.run(["kb", "diff", "1", "2", "--db", db], folder: folder)
        #expect(diff.stdout.contains("--- a/knowledge/orders/change-items.md"))
        #expect(diff.stdout.contains("-Want a different size, colour or item? Is your order not packed yet?"))
        #expect(diff.stdout.contains("+Want a different size, colour or item? Has your order not been packed?"))

        let rollback = try await SupportBotCLI.run(["kb", "rollback", "1", "--db", db], folder: folder)
        #expect(rollback.stdout.contains("Published version 3 with the files of version 1"))
        let versions = try await SupportBotCLI.run(["kb", "versions", "--db", db], folder: folder)
        let lines = versions.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("v3") == true && lines.first?.contains("Rollback to version 1") == true)
        #expect(lines.last?.contains("ana  first") == true)
        let same13 = try await SupportBotCLI.run(["kb", "diff", "1", "3", "--db", db], folder: folder)
        #expect(same13.stdout.contains("have the same files"))

        let export = try await SupportBotCLI.run(["kb", "export", "2", folder.path("out"), "--db", db], folder: folder)
        #expect(export.status == 0)
        let exported = try String(contentsOfFile: folder.path("out/knowledge/orders/change-items.md"), encoding: .utf8)
        #expect(exported.contains("Has your order not been packed?"))

        // Files the version doesn't have: nothing is written unless --replace, which deletes them.
        try "---\ntitle: Old\n---\nGone.\n".write(toFile: folder.path("out/knowledge/orders/old-article.md"),
                                                  atomically: true, encoding: .utf8)
        try "- id: old.intent\n".write(toFile: folder.path("out/intents/old.yml"), atomically: true, encoding: .utf8)
        try "edited".write(toFile: folder.path("out/knowledge/orders/change-items.md"), atomically: true, encoding: .utf8)
        let refused = try await SupportBotCLI.run(["kb", "export", "2", folder.path("out"), "--db", db], folder: folder)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("2 knowledge files that version 2 doesn't have"), "\(refused.stderr)")
        #expect(refused.stderr.contains("intents/old.yml") && refused.stderr.contains("knowledge/orders/old-article.md"))
        #expect(refused.stderr.contains("--replace"))
        #expect(try String(contentsOfFile: folder.path("out/knowledge/orders/change-items.md"), encoding: .utf8)
                == "edited", "a refused export wrote files")
        let replaced = try await SupportBotCLI.run(["kb", "export", "2", folder.path("out"), "--replace", "--db", db],
                                                   folder: folder)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(replaced.stdout.contains("Deleted 2 knowledge files that version 2 doesn't have"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("out/intents/old.yml")))
        #expect(!FileManager.default.fileExists(atPath: folder.path("out/knowledge/orders/old-article.md")))
        let fresh = try await SupportBotCLI.run(["kb", "export", "2", folder.path("fresh"), "--db", db], folder: folder)
        #expect(fresh.status == 0)
        func files(_ root: String) throws -> [String: String] {
            try KnowledgeFiles.read(intentsDirectory: folder.path(root + "/intents"),
                                    knowledgeDirectory: folder.path(root + "/knowledge"))
        }
        #expect(try files("out") == files("fresh"), "after --replace the folder is not exactly version 2")

        let unknown = try await SupportBotCLI.run(["kb", "diff", "1", "9", "--db", db], folder: folder)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("version 9"))

        // The writer's folder still holds version 2, which the rollback took back. A new edit published from it
        // would quietly bring version 2's change back (D10): it stops and says so; --again publishes on purpose.
        #expect(rollback.stdout.contains("kb export 3"), "\(rollback.stdout)")
        try edit(kb.knowledge + "/orders/track.md", replacing: "tracking link", with: "tracking link by e-mail")
        let undo = try await SupportBotCLI.run(["kb", "publish", "-m", "new price"] + paths, folder: folder)
        #expect(undo.status != 0)
        #expect(undo.stderr.contains("version 3 rolled back version 2 (to version 1)"), "\(undo.stderr)")
        #expect(undo.stderr.contains("knowledge/orders/change-items.md") && !undo.stderr.contains("orders/track.md"))
        #expect(undo.stderr.contains("--again") && undo.stderr.contains("kb export 3"))
        let stillThree = try await SupportBotCLI.run(["kb", "versions", "--db", db], folder: folder)
        #expect(stillThree.stdout.split(separator: "\n").first?.hasPrefix("v3") == true, "\(stillThree.stdout)")
        let again = try await SupportBotCLI.run(["kb", "publish", "-m", "back to 2", "--again"] + paths, folder: folder)
        #expect(again.stdout.contains("Published version 4"), "\(again.stderr)")
        // A real change after a rollback publishes as usual.
        try edit(kb.knowledge + "/orders/change-items.md", replacing: "Has your order not been packed?",
                 with: "Is your order still waiting to be packed?")
        let changed = try await SupportBotCLI.run(["kb", "publish", "-m", "reword again"] + paths, folder: folder)
        #expect(changed.stdout.contains("Published version 5"), "\(changed.stderr)")
    }

    @Test("publish refuses a version that fails lint or a conversation test, and stores nothing")
    func refusesBrokenVersions() async throws {
        let folder = try TemporaryDirectory()
        let kb = try demoCopy(in: folder)
        let db = folder.path("kb.sqlite")
        let paths = ["--intents", kb.intents, "--knowledge", kb.knowledge, "--db", db]
        try "---\ntitle: Change your order\ntags: [orders]\n---\nNotwithstanding the aforementioned stipulations, modification eligibility necessitates comprehensive documentation.\n"
            .write(toFile: kb.knowledge + "/orders/change-items.md", atomically: true, encoding: .utf8)
        let result = try await SupportBotCLI.run(["kb", "publish", "-m", "hard words"] + paths, folder: folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("Not published"))
        #expect(result.stderr.contains("knowledge/orders/change-items.md:5: error: grade"))

        try FileManager.default.createDirectory(atPath: kb.intents + "/tests", withIntermediateDirectories: true)
        try "- name: wrong on purpose\n  steps:\n    - say: where is my order\n      intent: returns.start\n"
            .write(toFile: kb.intents + "/tests/zz-wrong.yml", atomically: true, encoding: .utf8)
        let failing = try await SupportBotCLI.run(["kb", "publish", "-m", "x"] + paths, folder: folder)
        #expect(failing.stderr.contains("test \"wrong on purpose\", step 1"))
        #expect(!FileManager.default.fileExists(atPath: db), "a refused publish must not create or change the database")
    }

    @Test("a running server swaps in a newly published version; chats in progress go on")
    func hotSwap() async throws {
        let folder = try TemporaryDirectory()
        let kb = try demoCopy(in: folder)
        let db = folder.path("kb.sqlite")
        let server = try await SupportBotCLI.startServer(
            ["--db", db, "--intents", kb.intents, "--knowledge", kb.knowledge], in: folder.url, output: folder.url)
        let port = try server.port("chat")
        #expect(server.listening.contains("kb_version=1"))

        let chat = try await LineClient.connect(port: port)
        #expect(try await chat.next()?["kb_version"] as? Int == 1)
        let start = try await chat.ask("i want to send something back")
        #expect(start["intent"] as? String == "returns.start", "\(start)")

        try edit(kb.knowledge + "/orders/change-items.md", replacing: "Is your order not packed yet?",
                 with: "Has your order not been packed?")
        let publish = try await SupportBotCLI.run(
            ["kb", "publish", "-m", "reword", "--db", db, "--intents", kb.intents, "--knowledge", kb.knowledge],
            folder: folder)
        #expect(publish.stdout.contains("Published version 2"), "\(publish.stderr)")
        // The server says when it has swapped (it looks for new versions every second; see docs/operations.md).
        let swapped = try await server.running.waitForStderrLine(containing: "Swapped in a new knowledge version",
                                                                 timeout: SupportBotCLI.commandTimeout)
        #expect(swapped?.contains("kb_version=2") == true, "\(server.stderr)")

        // The chat in progress goes on, now answered by version 2 (its follow-up context is kept).
        let followUp = try await chat.ask("how long does that take")
        #expect(followUp["kb_version"] as? Int == 2, "\(followUp)")
        #expect(followUp["intent"] as? String == "returns.how_long")
        let fresh = try await LineClient.connect(port: port)
        #expect(try await fresh.next()?["kb_version"] as? Int == 2)
        let answer = try await fresh.ask("can i change my order")
        #expect((answer["text"] as? String ?? "").contains("Has your order not been packed?"))
        await chat.close()
        await fresh.close()
        #expect(try await server.stop())
    }
}
