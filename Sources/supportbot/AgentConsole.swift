import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import SupportBotServer

/// A terminal console for agents: see the queue, claim a chat, talk, add notes, transfer and close.
struct AgentConsole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Take handed-off chats in this terminal (connects to the agent port of a running server).",
        discussion: """
            Commands: /queue, /claim [TICKET], /close RESOLUTION, /note TEXT, /transfer SKILL or /transfer @NAME,
            /switch TICKET, /away, /online, /help, /quit. Anything else is sent to the customer of the current chat.
            The token can also come from the SUPPORTBOT_AGENT_TOKEN environment variable.
            """)

    @Option(help: "Your login token (from `supportbot agents add`).")
    var token: String?

    @Option(help: "Server address.")
    var host: String = "127.0.0.1"

    @Option(help: "The server's agent port.")
    var port: Int = 7701

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be from 1 to 65535.") }
    }

    func run() async throws {
        guard let token = token ?? ProcessInfo.processInfo.environment["SUPPORTBOT_AGENT_TOKEN"], !token.isEmpty else {
            throw UserFacingError("Give your token with --token, or set SUPPORTBOT_AGENT_TOKEN. "
                + "An admin creates one with: supportbot agents add NAME")
        }
        let channel: NIOAsyncChannel<InboundLine, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineFrameDecoder(maximumLength: 16 << 20)))
                        return try NIOAsyncChannel<InboundLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw UserFacingError("Can't reach the agent port at \(host):\(port). Is `supportbot serve` running? "
                + "Pass --port if it uses another agent port.")
        }
        let state = ConsoleState()
        let answers = AnswerGate()
        let input = AsyncStream<String> { continuation in
            let thread = Thread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
        try await channel.executeThenClose { inbound, outbound in
            func send(_ object: [String: Any]) async throws {
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                try await outbound.write(ByteBuffer(bytes: Array(data) + [UInt8(ascii: "\n")]))
            }
            try await send(["type": "login", "token": token])
            var awaitingAnswer = true
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await frame in inbound {
                        guard case .line(let bytes) = frame,
                              let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
                        else { continue }
                        let text = state.render(object)
                        if !text.isEmpty { ConsoleState.show(text) }
                        if ConsoleState.answers.contains(object["type"] as? String ?? "") { await answers.signal() }
                    }
                }
                for await line in input {
                    // One command at a time: the next line waits for the answer to the last one (a claim sets the
                    // chat that the next line goes to), so pasted or piped commands run in order.
                    if awaitingAnswer { await answers.wait(seconds: 5) }
                    awaitingAnswer = false
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    if trimmed.isEmpty { continue }
                    let action = state.command(for: trimmed)
                    if case .quit = action { break }
                    switch action {
                    case .send(let object):
                        await answers.reset()
                        try await send(object)
                        awaitingAnswer = true
                    case .local(let text): ConsoleState.show(text)
                    case .quit: break
                    }
                }
                if awaitingAnswer { await answers.wait(seconds: 5) }
                // End of input or /quit: say goodbye and let the server's last lines arrive.
                try await send(["type": "bye"])
                try await group.waitForAll()
            }
        }
    }
}

/// Lets the console wait for the server's answer to a command before sending the next one.
actor AnswerGate {
    private var pending = 0
    private var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var nextID = 0

    /// Forgets answers that arrived before now (pushed lines that look like answers).
    func reset() { pending = 0 }

    func signal() {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume()
        } else {
            pending += 1
        }
    }

    func wait(seconds: Double) async {
        if pending > 0 {
            pending -= 1
            return
        }
        nextID += 1
        let id = nextID
        await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume()
    }
}

/// What the console knows: the current chat. Turns typed lines into commands and server lines into text.
final class ConsoleState: @unchecked Sendable {
    enum Action {
        case send([String: Any])
        case local(String)
        case quit
    }

    /// Writes straight to the terminal: `print` buffers when piped, and flushing every stream would wait on the
    /// thread blocked reading standard input.
    static func show(_ text: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
    }

    private let lock = NSLock()
    private var _current: Int?
    private var current: Int? {
        get { lock.withLock { _current } }
        set { lock.withLock { _current = newValue } }
    }

    /// Lines that answer a command (the rest are pushes: new tickets, customer messages).
    static let answers: Set<String> = ["queue", "claimed", "sent", "noted", "transferred", "closed", "status",
                                       "pong", "error"]

    static let help = """
        /queue                  list waiting and open chats
        /claim [TICKET]         take the most urgent chat for you, or a given one
        /switch TICKET          talk in another of your chats
        /note TEXT              internal note (the customer never sees it)
        /transfer SKILL         hand the chat to agents with a skill, e.g. /transfer billing
        /transfer @NAME         hand the chat to a colleague who is online
        /close RESOLUTION       close the chat; the customer is asked for a rating
        /away, /online          your status
        /quit                   leave (your open chats wait a short time for you)
        anything else           sent to the customer of the current chat
        """

    func command(for line: String) -> Action {
        guard line.hasPrefix("/") else {
            guard let current else { return .local("No chat open. Use /claim first, or /help.") }
            return .send(["type": "say", "ticket": current, "text": line])
        }
        let parts = line.dropFirst().split(separator: " ", maxSplits: 1).map(String.init)
        let name = parts.first?.lowercased() ?? ""
        let rest = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch name {
        case "queue", "q": return .send(["type": "queue"])
        case "claim":
            if rest.isEmpty { return .send(["type": "claim"]) }
            guard let ticket = Int(rest.trimmingCharacters(in: CharacterSet(charactersIn: "#"))) else {
                return .local("Usage: /claim or /claim 12")
            }
            return .send(["type": "claim", "ticket": ticket])
        case "switch":
            guard let ticket = Int(rest.trimmingCharacters(in: CharacterSet(charactersIn: "#"))) else {
                return .local("Usage: /switch 12")
            }
            current = ticket
            return .local("Now talking in ticket #\(ticket).")
        case "note", "close", "transfer":
            guard let current else { return .local("No chat open. Use /claim first.") }
            guard !rest.isEmpty else {
                let usage = ["note": "/note TEXT", "close": "/close RESOLUTION", "transfer": "/transfer SKILL or /transfer @NAME"]
                return .local("Usage: " + (usage[name] ?? "/\(name) TEXT"))
            }
            switch name {
            case "note": return .send(["type": "note", "ticket": current, "text": rest])
            case "close": return .send(["type": "close", "ticket": current, "resolution": rest])
            default:
                if rest.hasPrefix("@") {
                    return .send(["type": "transfer", "ticket": current, "agent": String(rest.dropFirst())])
                }
                return .send(["type": "transfer", "ticket": current, "skill": rest])
            }
        case "away": return .send(["type": "status", "status": "away"])
        case "online": return .send(["type": "status", "status": "online"])
        case "help", "h", "?": return .local(Self.help)
        case "quit", "exit", "q!": return .quit
        default: return .local("Unknown command /\(name). Type /help.")
        }
    }

    func render(_ object: [String: Any]) -> String {
        let type = object["type"] as? String ?? "?"
        let ticket = (object["ticket"] as? Int).map { "#\($0)" } ?? ""
        switch type {
        case "hello": return ""
        case "welcome":
            return "Logged in as \(object["agent"] as? String ?? "?"). Type /help for commands."
        case "queue":
            let tickets = object["tickets"] as? [[String: Any]] ?? []
            if tickets.isEmpty { return "Queue: no one is waiting." }
            return "Queue:\n" + tickets.map { Self.ticketLine($0) }.joined(separator: "\n")
        case "ticket_new": return "New: " + Self.ticketLine(object)
        case "ticket_taken": return "\(ticket) was taken by \(object["agent"] as? String ?? "someone")."
        case "ticket_gone": return "\(ticket) left the queue (\(object["state"] as? String ?? "closed"))."
        case "claimed":
            if let id = object["ticket"] as? Int { current = id }
            var lines = ["=== Chat \(ticket): \(object["reason"] as? String ?? "") (\(object["priority"] as? String ?? ""))"]
            if let from = object["transferred_from"] as? String { lines.append("Transferred from \(from).") }
            if object["sticky"] as? Bool == true { lines.append("You helped this customer before.") }
            if let mood = object["mood"] as? [String: Any] {
                let reasons = (mood["reasons"] as? [[String: Any]] ?? []).compactMap { reason -> String? in
                    guard let kind = reason["kind"] as? String, let evidence = reason["evidence"] as? String,
                          (reason["weight"] as? Double ?? 0) > 0 else { return nil }
                    return "\(kind) \"\(evidence)\""
                }
                lines.append("Mood \(mood["score"] ?? 0)" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: ", ")))
            }
            let guesses = (object["candidates"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
            if !guesses.isEmpty { lines.append("Bot's guesses: " + guesses.joined(separator: "; ")) }
            for entry in object["transcript"] as? [[String: Any]] ?? [] {
                let from = entry["author"] as? String ?? entry["from"] as? String ?? "?"
                lines.append("  \(from): \(entry["text"] as? String ?? "")")
            }
            lines.append("=== You are in chat \(ticket). Type to reply; /close RESOLUTION when done.")
            return lines.joined(separator: "\n")
        case "customer": return "customer \(ticket): \(object["text"] as? String ?? "")"
        case "customer_left": return "The customer of \(ticket) left the chat."
        case "customer_back": return "The customer of \(ticket) is back."
        case "sent":
            return object["customer_online"] as? Bool == false ? "(saved; the customer is offline right now)" : ""
        case "noted": return "Note added to \(ticket)."
        case "transferred":
            current = nil
            return "\(ticket) handed to \(object["to"] as? String ?? "?")."
        case "closed":
            if let id = object["ticket"] as? Int, id == current { current = nil }
            return "Closed \(ticket)."
        case "status": return "Status: \(object["status"] as? String ?? "?")."
        case "pong", "bye": return ""
        case "error":
            return "! \(object["message"] as? String ?? "") (\(object["code"] as? String ?? "error"))"
        default: return "\(object)"
        }
    }

    static func ticketLine(_ ticket: [String: Any]) -> String {
        let id = ticket["ticket"] as? Int ?? 0
        let minutes = (ticket["waiting_s"] as? Int ?? 0) / 60
        var line = "  #\(id) \(ticket["priority"] as? String ?? "") \(ticket["reason"] as? String ?? "") "
            + "\(ticket["state"] as? String ?? "") \(minutes) min"
        if let agent = ticket["agent"] as? String { line += " (\(agent))" }
        if let address = ticket["reply_email"] as? String { line += " [reply by e-mail: \(address)]" }
        if let preview = ticket["preview"] as? String { line += " \"\(preview.prefix(60))\"" }
        return line
    }
}
