import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SupportBotCore
import SupportBotStore

/// The agent listener: JSON Lines over TCP, token login, one `AgentSession` per connection.
public final class AgentServer: Service, Sendable {
    public let desk: HandoffDesk
    private let listener: LineListener

    public var localAddress: SocketAddress? { listener.localAddress }
    public var port: Int { listener.port }
    /// This protocol's connections, over TCP and WebSocket alike.
    var connections: LineConnections { listener.connections }

    private init(desk: HandoffDesk, listener: LineListener) {
        self.desk = desk
        self.listener = listener
    }

    public static func bind(services: ChatServices, desk: HandoffDesk,
                            group: MultiThreadedEventLoopGroup = .singleton) async throws -> AgentServer {
        let configuration = services.configuration
        let limits = ListenerLimits(
            host: configuration.host, port: configuration.agentPort, maxLineBytes: configuration.maxLineBytes,
            maxConnections: configuration.maxAgentConnections, idleTimeoutSeconds: configuration.agentIdleTimeoutSeconds,
            maxPerAddress: configuration.maxConnectionsPerAddress,
            login: LoginRule(deadline: .seconds(configuration.agentLoginDeadlineSeconds),
                             timeoutLine: AgentLine.error("login_timeout", "You did not log in in time, so this "
                                 + "connection is closed. Connect again and log in with your token."),
                             displacedLine: AgentLine.error("login_timeout", "This connection had not logged in, and "
                                 + "the agent port was full, so it was closed to make room. Connect again and log in "
                                 + "with your token.")))
        let loginGuard = LoginGuard(policy: .init(allowedFailures: configuration.agentLoginFailuresAllowed,
                                                  refillSeconds: configuration.agentLoginRetrySeconds),
                                    logger: services.logger)
        let listener = try await LineListener.bind(name: "Agent", limits: limits, logger: services.logger,
                                                   group: group) { outbox in
            AgentSession(database: services.database, desk: desk, logger: services.logger, outbox: outbox,
                         loginGuard: loginGuard, rateBurst: configuration.agentRateBurst,
                         ratePerSecond: configuration.agentRatePerSecond)
        }
        return AgentServer(desk: desk, listener: listener)
    }

    public func run() async throws {
        try await listener.run()
        await desk.stop()
    }

    public func stopAccepting() { listener.stopAccepting() }
}

/// A command from an agent's console.
enum AgentCommand: Equatable {
    case login(token: String)
    case queue
    case claim(ticket: Int64?)
    case say(ticket: Int64, text: String)
    case note(ticket: Int64, text: String)
    case transfer(ticket: Int64, skill: String?, agent: String?)
    case close(ticket: Int64, resolution: String)
    case status(AgentStatus)
    case ping
    case bye

    /// Parses one line; the error is the line to send back.
    static func parse(_ bytes: [UInt8]) -> Result<AgentCommand?, AgentCommandError> {
        guard let line = String(validating: bytes, as: UTF8.self) else {
            return .failure(.init("bad_utf8", "That line is not valid UTF-8."))
        }
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .success(nil) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
            return .failure(.init("bad_json", "Send one JSON object per line, like {\"type\":\"queue\"}."))
        }
        guard let type = object["type"] as? String else {
            return .failure(.init("missing_field", "The field 'type' is missing, like {\"type\":\"queue\"}."))
        }
        func ticket(required: Bool = true) -> Result<Int64?, AgentCommandError> {
            // JSON true/false arrive as NSNumber with objCType "c": not a ticket number.
            guard let value = object["ticket"] else {
                return required ? .failure(.init("missing_field", "The field 'ticket' is missing.")) : .success(nil)
            }
            if let number = value as? NSNumber, String(cString: number.objCType) != "c",
               number.doubleValue == number.doubleValue.rounded(), number.doubleValue >= 1 {
                return .success(number.int64Value)
            }
            if let text = value as? String, let number = Int64(text.trimmingCharacters(in: .whitespaces)), number >= 1 {
                return .success(number)
            }
            return .failure(.init("invalid_field", "The field 'ticket' must be a ticket number, like 12."))
        }
        func text(_ field: String) -> Result<String, AgentCommandError> {
            guard let value = object[field] as? String else {
                return .failure(.init("missing_field", "The field '\(field)' is missing or not text."))
            }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { return .failure(.init("invalid_field", "The field '\(field)' is empty.")) }
            return .success(trimmed)
        }
        do {
            switch type {
            case "login": return .success(.login(token: try text("token").get()))
            case "queue": return .success(.queue)
            case "claim": return .success(.claim(ticket: try ticket(required: false).get()))
            case "say": return .success(.say(ticket: try ticket().get()!, text: try text("text").get()))
            case "note": return .success(.note(ticket: try ticket().get()!, text: try text("text").get()))
            case "transfer":
                let id = try ticket().get()!
                let skill = (object["skill"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                let agent = (object["agent"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                guard (skill == nil) != (agent == nil) else {
                    return .failure(.init("missing_field", "Give either 'skill' or 'agent', like "
                                          + "{\"type\":\"transfer\",\"ticket\":12,\"skill\":\"billing\"}."))
                }
                return .success(.transfer(ticket: id, skill: skill, agent: agent))
            case "close":
                let id = try ticket().get()!
                let resolution = (object["resolution"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let resolution, !resolution.isEmpty else {
                    return .failure(.init("missing_field", "Say how it was resolved: 'resolution' is missing."))
                }
                return .success(.close(ticket: id, resolution: resolution))
            case "status":
                guard let status = (object["status"] as? String).flatMap(AgentStatus.init(rawValue:)) else {
                    return .failure(.init("invalid_field", "The field 'status' must be online or away."))
                }
                return .success(.status(status))
            case "ping": return .success(.ping)
            case "bye": return .success(.bye)
            default:
                return .failure(.init("unknown_type", "Unknown command '\(type.prefix(40))'. Use login, queue, claim, "
                                      + "say, note, transfer, close, status, ping or bye."))
            }
        } catch {
            return .failure(error)
        }
    }
}

struct AgentCommandError: Error, Equatable {
    var code: String
    var message: String
    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// One agent connection: login with a token (only its hash is stored), then queue commands go to the desk.
final class AgentSession: LineConnectionHandler {
    static let maxLoginFailures = 3

    private let database: SupportBotDatabase
    private let desk: HandoffDesk
    private let logger: Logger
    private let outbox: Outbox
    private let loginGuard: LoginGuard
    private var agent: Agent?
    private var failures = 0
    /// Agents type fast, but a runaway script should not flood the desk.
    private var rateLimiter: RateLimiter

    init(database: SupportBotDatabase, desk: HandoffDesk, logger: Logger, outbox: Outbox, loginGuard: LoginGuard,
         rateBurst: Int = 50, ratePerSecond: Double = 20) {
        self.loginGuard = loginGuard
        self.rateLimiter = RateLimiter(burst: rateBurst, perSecond: ratePerSecond)
        self.database = database
        self.desk = desk
        self.logger = logger
        self.outbox = outbox
    }

    var closesWhenIdle: Bool { true }

    var isSignedIn: Bool { agent != nil }

    func greeting() async -> [[UInt8]] {
        [AgentLine.make("hello", [("text", "SupportBot agent port. Log in with {\"type\":\"login\",\"token\":\"…\"}.")])]
    }

    func handle(_ bytes: [UInt8]) async -> (lines: [[UInt8]], close: Bool) {
        guard rateLimiter.allow() else {
            return ([AgentLine.error("rate_limited", "Too many commands at once. Wait a second, then go on.")], false)
        }
        let command: AgentCommand
        switch AgentCommand.parse(bytes) {
        case .failure(let error): return ([AgentLine.error(error.code, error.message)], false)
        case .success(nil): return ([], false)
        case .success(let parsed?): command = parsed
        }
        do {
            if case .login(let token) = command { return try await login(token) }
            if case .ping = command { return ([AgentLine.make("pong", [])], false) }
            if case .bye = command { return ([AgentLine.make("bye", [])], true) }
            guard let agent else {
                return ([AgentLine.error("not_logged_in", "Log in first with {\"type\":\"login\",\"token\":\"…\"}.")],
                        false)
            }
            // `supportbot agents remove` may have run while this agent was logged in.
            guard try await database.agent(id: agent.id) != nil else {
                await desk.agentDisconnected(agent.id, connection: ObjectIdentifier(self))
                self.agent = nil
                return ([AgentLine.error("agent_removed", "Your agent account was removed, so you are logged out.")],
                        true)
            }
            switch command {
            case .queue: return ([try await desk.queueLine(for: agent.id)], false)
            case .claim(let ticket): return (try await desk.claim(agent.id, ticket: ticket), false)
            case .say(let ticket, let text): return (try await desk.say(agent.id, ticket: ticket, text: text), false)
            case .note(let ticket, let text): return (try await desk.note(agent.id, ticket: ticket, text: text), false)
            case .transfer(let ticket, let skill, let name):
                return (try await desk.transfer(agent.id, ticket: ticket, skill: skill, to: name), false)
            case .close(let ticket, let resolution):
                return (try await desk.close(agent.id, ticket: ticket, resolution: resolution), false)
            case .status(let status): return (try await desk.setStatus(agent.id, status), false)
            case .login, .ping, .bye: return ([], false)
            }
        } catch {
            logger.error("Agent command failed", metadata: ["error": .string(PIIMasker.mask("\(error)"))])
            return ([AgentLine.error("internal_error", "Something went wrong on the server. Please try again.")], false)
        }
    }

    private func login(_ token: String) async throws -> (lines: [[UInt8]], close: Bool) {
        if let agent {
            return ([AgentLine.error("already_logged_in", "You are already logged in as \(agent.name).")], false)
        }
        let address = outbox.clientAddress
        if case .slowed(let wait) = loginGuard.check(address) {
            let seconds = wait == 1 ? "1 second" : "\(wait) seconds"
            return ([AgentLine.error("login_slowed", "Too many wrong tokens came from your network, so logins from it "
                        + "are slowed. Wait \(seconds), then log in again.")], false)
        }
        guard let found = try await database.agent(tokenHash: AgentToken.hash(token)) else {
            failures += 1
            loginGuard.recordFailure(address)
            let last = failures >= Self.maxLoginFailures
            let message = last ? "That token is not right. Too many tries, so this connection is closed."
                : "That token is not right. Check it and try again (\(Self.maxLoginFailures - failures) "
                    + (Self.maxLoginFailures - failures == 1 ? "try" : "tries") + " left)."
            return ([AgentLine.error("auth_failed", message)], last)
        }
        loginGuard.recordSuccess(address)
        agent = found
        return (try await desk.login(found, outbox: outbox, connection: ObjectIdentifier(self)), false)
    }

    func closed() async {
        if let agent { await desk.agentDisconnected(agent.id, connection: ObjectIdentifier(self)) }
    }
}

/// Agent tokens: long random strings shown once; only their SHA-256 is stored.
public enum AgentToken {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return "sbt_" + String((0..<40).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    public static func hash(_ token: String) -> String {
        SHA256.hex(token.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
