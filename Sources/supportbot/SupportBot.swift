import ArgumentParser
import SupportBotStore

@main
struct SupportBot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supportbot",
        abstract: "A self-hosted, rule-based customer-support chatbot server.",
        discussion: """
            Start the server with `supportbot serve`, then talk to it with `nc 127.0.0.1 7700`.
            Try the bot without a server with `supportbot chat` or `supportbot ask "where is my order"`.
            """,
        subcommands: [Serve.self, Chat.self, Ask.self, Mood.self, TranscriptCommand.self, Eval.self, Agents.self,
                      QueueCommand.self, AgentConsole.self, Bench.self, ReadabilityCommand.self,
                      KB.self]
    )

    /// ArgumentParser's `main`, except that a database failure which escaped a command (a damaged page, a full
    /// disk) is printed as what to do about it rather than SQLite's own words.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: SupportBotDatabase.explain(error).map { UserFacingError($0.description) } ?? error)
        }
    }
}

/// Where the knowledge files live; shared by every command that builds an engine.
struct KnowledgeOptions: ParsableArguments {
    @Option(name: .long, help: "Folder with the knowledge articles (Markdown) and _settings.yml.")
    var knowledge: String = "knowledge"

    @Option(name: .long, help: "Folder with the intents (YAML) and _synonyms.yml.")
    var intents: String = "intents"
}

/// A failure the user can fix: printed as one clear message, exit code 1.
struct UserFacingError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
