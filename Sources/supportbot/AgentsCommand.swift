import ArgumentParser
import Foundation
import SupportBotCore
import SupportBotServer
import SupportBotStore

/// `--db`, shared by every command that touches the database.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "SQLite database file (the one `supportbot serve --db` uses).")
    var db: String = "supportbot.sqlite"

    /// Opens the database; with `mustExist`, a missing file is an error instead of a new empty database.
    func open(mustExist: Bool) throws -> SupportBotDatabase {
        if mustExist && !FileManager.default.fileExists(atPath: (db as NSString).expandingTildeInPath) {
            throw UserFacingError("There is no database at \(db). Pass --db with the file the server uses.")
        }
        do {
            return try SupportBotDatabase.open(path: db)
        } catch {
            throw UserFacingError("\(error)")
        }
    }

    /// Opens an existing database to read it, also on a read-only file system (see `openForReading`).
    func openForReading() throws -> SupportBotDatabase {
        try Self.openForReading(db)
    }

    static func openForReading(_ db: String) throws -> SupportBotDatabase {
        guard FileManager.default.fileExists(atPath: (db as NSString).expandingTildeInPath) else {
            throw UserFacingError("There is no database at \(db). Pass --db with the file the server uses.")
        }
        do {
            return try SupportBotDatabase.openForReading(path: db)
        } catch {
            throw UserFacingError("\(error)")
        }
    }
}

struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, list and remove the people who take handed-off chats.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an agent and print their login token once (only its hash is stored).")

        @Argument(help: "The agent's name, shown to customers (e.g. Sam).")
        var name: String

        @Option(help: "Comma-separated skills that route tickets to this agent, e.g. billing,shipping.")
        var skills: String = ""

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let db = try database.open(mustExist: false)
            let token = AgentToken.generate()
            let skillList = skills.split(separator: ",").map { String($0) }
            let agent: Agent
            do {
                agent = try await db.addAgent(name: name, skills: skillList, tokenHash: AgentToken.hash(token), at: Date())
            } catch let error as StoreError {
                throw UserFacingError(error.description)
            }
            print("Added \(agent.name)" + (agent.skills.isEmpty ? "" : " (skills: \(agent.skills.joined(separator: ", ")))") + ".")
            print("Token (shown only now; keep it secret): \(token)")
            print("Log in with: supportbot agent --token \(token)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the agents and their skills.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let agents = try await database.openForReading().agents()
            if agents.isEmpty {
                print("No agents yet. Add one with: supportbot agents add NAME --skills billing,shipping")
                return
            }
            let formatter = ISO8601DateFormatter()
            for agent in agents {
                let skills = agent.skills.isEmpty ? "any topic" : agent.skills.joined(separator: ", ")
                print("\(agent.name)  skills: \(skills)  added \(formatter.string(from: agent.createdAt))")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an agent; their token stops working and their open chats go back to the line.")

        @Argument(help: "The agent's name.")
        var name: String

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            guard try await database.open(mustExist: true).removeAgent(named: name) else {
                throw UserFacingError("There is no agent called \"\(name)\". See the names with: supportbot agents list")
            }
            print("Removed \(name). Their token no longer works.")
        }
    }
}

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List handed-off chats from the database: waiting and with an agent, most urgent first.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Also list closed and abandoned tickets (newest first).")
    var all = false

    @Option(help: "With --all: how many tickets to list.")
    var limit: Int = 50

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1.") }
    }

    func run() async throws {
        let db = try database.openForReading()
        let tickets = all ? try await db.tickets(states: TicketState.allCases, limit: limit) : try await db.openTickets()
        let now = Date()
        if json {
            struct Row: Encodable {
                var ticket: Int64, state: String, priority: String, reason: String, waiting_s: Int, tags: [String]
                var agent: String?, preview: String, session: String, rating: Int?, resolution: String?
                var reply_email: String?
            }
            let rows = tickets.map {
                Row(ticket: $0.id, state: $0.state.rawValue, priority: EscalationLevel(rawValue: $0.level)?.name ?? "?",
                    reason: $0.reason, waiting_s: Int(now.timeIntervalSince($0.queuedAt)), tags: $0.tags,
                    agent: $0.agentName, preview: $0.preview, session: $0.sessionID, rating: $0.rating,
                    resolution: $0.resolution, reply_email: $0.replyEmail)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        if tickets.isEmpty {
            print(all ? "No tickets yet." : "No one is waiting and no chat is open.")
            return
        }
        for ticket in tickets {
            let level = EscalationLevel(rawValue: ticket.level)?.name ?? "?"
            let minutes = Int(now.timeIntervalSince(ticket.queuedAt) / 60)
            var line = "#\(ticket.id)  \(ticket.state.rawValue)  \(level)  \(ticket.reason)"
            if ticket.state.isOpen { line += "  \(minutes) min" }
            if let agent = ticket.agentName { line += "  agent: \(agent)" }
            if !ticket.tags.isEmpty { line += "  tags: \(ticket.tags.joined(separator: ","))" }
            if let rating = ticket.rating { line += "  rated \(rating)/5" }
            if let address = ticket.replyEmail { line += "  reply by e-mail: \(address)" }
            print(line + "\n     \"\(ticket.preview)\"")
        }
    }
}
