import Foundation
import Logging
import SupportBotCore
import SupportBotStore

/// Shared by every connection: the live engine, the database, limits and the logger.
public struct ChatServices: Sendable {
    public var engine: LiveEngine
    public var database: SupportBotDatabase
    public var configuration: ServerConfiguration
    public var logger: Logger

    public init(engine: LiveEngine, database: SupportBotDatabase, configuration: ServerConfiguration, logger: Logger) {
        self.engine = engine
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }
}

/// One customer's conversation on one connection. Turns a protocol message into the messages to send back,
/// and stores both sides before the reply leaves the server.
final class CustomerSession {
    private let services: ChatServices
    private(set) var sessionID: String
    private var context = DialogueContext()
    /// The session row exists in the database (created lazily on the first message, so idle
    /// connections cost no writes).
    private var stored = false
    private var rateLimiter: RateLimiter

    init(services: ChatServices) {
        self.services = services
        self.sessionID = Self.newSessionID()
        self.rateLimiter = RateLimiter(burst: services.configuration.rateBurst,
                                       perSecond: services.configuration.ratePerSecond)
    }

    /// A long random id: knowing it lets a client resume the chat and see its history.
    static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return "s-" + String((0..<22).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    func welcome() -> ServerMessage {
        let engine = services.engine.engine
        return .welcome(session: sessionID, text: engine.welcome, kbVersion: engine.version, resumed: false, history: [])
    }

    /// What to send back for one inbound line, and whether to close the connection afterwards.
    func handle(_ bytes: [UInt8]) async -> (messages: [ServerMessage], close: Bool) {
        guard rateLimiter.allow() else {
            return ([.error(code: .rateLimited,
                            message: "Please wait a few seconds, then send your next message.")], false)
        }
        let message: ClientMessage
        switch ClientMessageParser.parse(bytes) {
        case .failure(let error):
            return ([.error(code: error.code, message: error.message)], false)
        case .success(nil):
            return ([], false)
        case .success(let parsed?):
            message = parsed
        }
        do {
            switch message {
            case .say(let text):
                let engine = services.engine.engine
                // The conversation moves on only once the exchange is stored: if storing fails, the customer's
                // next "yes" or "2" still refers to what they last saw.
                var next = context
                let reply = engine.reply(to: text, context: &next)
                try await store(customerText: text, reply: reply, engine: engine, context: next)
                context = next
                return ([.reply(reply, kbVersion: engine.version)], false)
            case .choose(let option):
                let engine = services.engine.engine
                var next = context
                let reply = engine.choose(option: option, context: &next)
                try await store(customerText: "(picked option \(option))", reply: reply, engine: engine, context: next)
                context = next
                return ([.reply(reply, kbVersion: engine.version)], false)
            case .hello(let session):
                return (try await resume(session), false)
            case .rate(let score, let comment):
                try await rate(score: score, comment: comment)
                return ([.rated(score: score, text: "Thank you for your rating! It helps us get better.")], false)
            case .ping:
                return ([.pong], false)
            case .bye:
                if stored { try await services.database.closeSession(id: sessionID, at: Date()) }
                return ([.bye(text: "Thanks for chatting with us. Bye for now!")], true)
            }
        } catch {
            services.logger.error("Chat message failed", metadata: [
                "session": .string(sessionID), "error": .string(PIIMasker.mask(String(describing: error))),
            ])
            return ([.error(code: .internalError,
                            message: "Sorry, something went wrong on our side. Please try again in a moment.")], false)
        }
    }

    private func ensureStored(kbVersion: Int) async throws {
        guard !stored else { return }
        try await services.database.createSession(id: sessionID, at: Date(), kbVersion: kbVersion,
                                                  context: Self.encode(context))
        stored = true
    }

    private func store(customerText: String, reply: BotReply, engine: SupportEngine,
                       context: DialogueContext) async throws {
        try await ensureStored(kbVersion: engine.version)
        let now = Date()
        let entries = [
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: customerText, kbVersion: engine.version),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: reply.text, intent: reply.intent,
                            confidence: reply.confidence, action: reply.action.rawValue, kbVersion: engine.version),
        ]
        _ = try await services.database.record(ChatTurn(sessionID: sessionID, context: Self.encode(context),
                                                        kbVersion: engine.version, entries: entries, at: now))
    }

    private func rate(score: Int, comment: String?) async throws {
        let engine = services.engine.engine
        try await ensureStored(kbVersion: engine.version)
        let text = "Rated \(score) of 5" + (comment.map { ": \($0)" } ?? "")
        let entry = TranscriptEntry(sessionID: sessionID, at: Date(), speaker: .customer, text: text,
                                    action: "rate", kbVersion: engine.version)
        _ = try await services.database.record(ChatTurn(sessionID: sessionID, context: Self.encode(context),
                                                        kbVersion: engine.version, entries: [entry], at: Date()))
    }

    private func resume(_ id: String) async throws -> [ServerMessage] {
        guard let session = try await services.database.session(id: id) else {
            return [.error(code: .unknownSession,
                           message: "We can't find that chat. It may be too old. You can start a new chat here.")]
        }
        sessionID = session.id
        context = (try? JSONDecoder().decode(DialogueContext.self, from: Data(session.context.utf8))) ?? DialogueContext()
        stored = true
        let transcript = try await services.database.transcript(sessionID: id)
        let formatter = ISO8601DateFormatter()
        let history = transcript.suffix(services.configuration.resumeHistory).map {
            ServerMessage.HistoryItem(from: $0.speaker.rawValue, text: $0.text, at: formatter.string(from: $0.at))
        }
        let engine = services.engine.engine
        return [.welcome(session: id, text: "Welcome back! We can carry on where we left off.",
                         kbVersion: engine.version, resumed: true, history: Array(history))]
    }

    static func encode(_ context: DialogueContext) -> String {
        (try? JSONEncoder().encode(context)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
