import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SupportBotCore
import SupportBotStore

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
        [AgentEvent.hello(text: "SupportBot agent port. Log in with {\"type\":\"login\",\"token\":\"…\"}.").jsonLine()]
    }

    func handle(_ bytes: [UInt8]) async -> (lines: [[UInt8]], close: Bool) {
        let (events, close) = await respond(to: bytes)
        return (events.map { $0.jsonLine() }, close)
    }

    /// What to send back for one command line, and whether to close the connection afterwards.
    private func respond(to bytes: [UInt8]) async -> (events: [AgentEvent], close: Bool) {
        guard rateLimiter.allow() else {
            return ([AgentEvent.error(.rateLimited, "Too many commands at once. Wait a second, then go on.")], false)
        }
        let command: AgentCommand
        switch AgentCommand.parse(bytes) {
        case .failure(let error): return ([.error(error.code, error.message)], false)
        case .success(nil): return ([], false)
        case .success(let parsed?): command = parsed
        }
        do {
            if case .login(let token) = command { return try await login(token) }
            if case .ping = command { return ([.pong], false) }
            if case .bye = command { return ([.bye], true) }
            guard let agent else {
                return ([AgentEvent.error(.notLoggedIn, "Log in first with {\"type\":\"login\",\"token\":\"…\"}.")],
                        false)
            }
            // `supportbot agents remove` may have run while this agent was logged in.
            guard try await database.agent(id: agent.id) != nil else {
                await desk.agentDisconnected(agent.id, connection: ObjectIdentifier(self))
                self.agent = nil
                return ([AgentEvent.error(.agentRemoved, "Your agent account was removed, so you are logged out.")],
                        true)
            }
            switch command {
            case .queue: return ([try await desk.queueEvent(for: agent.id)], false)
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
            return ([AgentEvent.error(.internalError, "Something went wrong on the server. Please try again.")], false)
        }
    }

    private func login(_ token: String) async throws -> (events: [AgentEvent], close: Bool) {
        if let agent {
            return ([AgentEvent.error(.alreadyLoggedIn, "You are already logged in as \(agent.name).")], false)
        }
        let address = outbox.clientAddress
        if case .slowed(let wait) = loginGuard.check(address) {
            let seconds = wait == 1 ? "1 second" : "\(wait) seconds"
            return ([AgentEvent.error(.loginSlowed, "Too many wrong tokens came from your network, so logins from it "
                        + "are slowed. Wait \(seconds), then log in again.")], false)
        }
        guard let found = try await database.agent(tokenHash: AgentToken.hash(token)) else {
            failures += 1
            loginGuard.recordFailure(address)
            let last = failures >= Self.maxLoginFailures
            let message = last ? "That token is not right. Too many tries, so this connection is closed."
                : "That token is not right. Check it and try again (\(Self.maxLoginFailures - failures) "
                    + (Self.maxLoginFailures - failures == 1 ? "try" : "tries") + " left)."
            return ([AgentEvent.error(.authFailed, message)], last)
        }
        loginGuard.recordSuccess(address)
        agent = found
        return (try await desk.login(found, outbox: outbox, connection: ObjectIdentifier(self)), false)
    }

    func closed() async {
        if let agent { await desk.agentDisconnected(agent.id, connection: ObjectIdentifier(self)) }
    }
}
