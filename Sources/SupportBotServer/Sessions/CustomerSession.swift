import Foundation
import Logging
import Synchronization
import SupportBotCore
import SupportBotStore

/// One customer's conversation on one connection. Turns a protocol message into the messages to send back,
/// and stores both sides before the reply leaves the server. While a person has the chat (or the customer waits
/// for one), the bot stays silent and messages go to the ticket.
final class CustomerSession: LineConnectionHandler {
    private let services: ChatServices
    private let outbox: Outbox
    private(set) var sessionID: String
    private var context = DialogueContext()
    /// The session row exists in the database (created lazily on the first message, so idle
    /// connections cost no writes).
    private var stored = false
    private var rateLimiter: RateLimiter
    private var phase = Phase.bot

    /// Where the chat stands with the people behind the bot.
    enum Phase: Equatable {
        /// The bot answers.
        case bot
        /// A ticket is open, waiting for a person or with one: messages go to it.
        case ticket(Int64)
        /// A person closed the chat, which the customer may rate. `justAsked`: the request to rate was the last thing
        /// they saw, so a bare "5" is a rating.
        case rating(Int64, justAsked: Bool)
    }

    /// The open ticket, in `.ticket`.
    private var ticket: Int64? { if case .ticket(let id) = phase { id } else { nil } }

    init(services: ChatServices, outbox: Outbox) {
        self.services = services
        self.outbox = outbox
        self.sessionID = Self.newSessionID()
        self.rateLimiter = RateLimiter(burst: services.configuration.rateBurst,
                                       perSecond: services.configuration.ratePerSecond)
    }

    /// A long random id: knowing it lets a client resume the chat and see its history.
    static func newSessionID() -> String {
        // 22 letters of 5 bits each (the alphabet has 32): 110 random bits from two draws, not a system call each.
        var generator = SystemRandomNumberGenerator()
        var bits = (generator.next() as UInt64, generator.next() as UInt64)
        var letters: [UInt8] = Array("s-".utf8)
        for index in 0..<22 {
            let word = index < 12 ? bits.0 : bits.1
            letters.append(sessionAlphabet[Int(word & 31)])
            if index < 12 { bits.0 >>= 5 } else { bits.1 >>= 5 }
        }
        return String(decoding: letters, as: UTF8.self)
    }

    private static let sessionAlphabet = Array("abcdefghijkmnpqrstuvwxyz23456789".utf8)

    func welcome() -> ServerMessage {
        let engine = services.engine.engine
        return .welcome(session: sessionID, text: engine.welcome, kbVersion: engine.version, resumed: false, history: [])
    }

    func greeting() async -> [[UInt8]] { [welcome().jsonLine()] }

    /// A customer in line for a person, or talking to one, is never closed for being quiet.
    var closesWhenIdle: Bool { !outbox.holdsOpen }

    func handle(_ bytes: [UInt8]) async -> (lines: [[UInt8]], close: Bool) {
        let (messages, close) = await respond(to: bytes)
        return (messages.map { $0.jsonLine() }, close)
    }

    func closed() async {
        services.liveSessions.release(sessionID, connection: ObjectIdentifier(self))
        // Closed because another tab took the chat: the customer is still there.
        if services.liveSessions.wasDisplaced(ObjectIdentifier(self)) { return }
        if let ticket, let desk = services.desk {
            await desk.customerDisconnected(ticket: ticket, outbox: outbox, saidBye: false)
        }
    }

    /// What to send back for one inbound line, and whether to close the connection afterwards.
    func respond(to bytes: [UInt8]) async -> (messages: [ServerMessage], close: Bool) {
        guard rateLimiter.allow() else {
            return ([.error(code: .rateLimited,
                            message: BotMessages.slowDown)], false)
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
                if let ticket, let messages = try await toTicket(ticket, text: text) { return (messages, false) }
                // "5" or "4, quick and kind" after "rate us from 1 to 5": a rating typed as a message (over TCP,
                // or in a widget without the stars).
                var justAsked = false
                if case .rating(let closed, true) = phase {
                    justAsked = true
                    phase = .rating(closed, justAsked: false)
                }
                if justAsked, let (score, comment) = Self.typedRating(text) {
                    try await rate(score: score, comment: comment)
                    return ([.rated(score: score, text: services.engine.engine.messages.ratingThanks)], false)
                }
                let engine = services.engine.engine
                // The conversation moves on only once the exchange is stored: if storing fails, the customer's
                // next "yes" or "2" still refers to what they last saw.
                var next = context
                let turn = engine.respond(to: text, context: &next)
                return (try await finish(turn, customerText: text, engine: engine, context: next), false)
            case .choose(let option):
                let text = "(picked option \(option))"
                if let ticket, let messages = try await toTicket(ticket, text: text) { return (messages, false) }
                let engine = services.engine.engine
                var next = context
                let turn = engine.respond(choosing: option, context: &next)
                return (try await finish(turn, customerText: text, engine: engine, context: next), false)
            case .hello(let session):
                return (try await resume(session), false)
            case .rate(let score, let comment):
                try await rate(score: score, comment: comment)
                return ([.rated(score: score, text: services.engine.engine.messages.ratingThanks)], false)
            case .ping:
                return ([.pong], false)
            case .bye:
                if let ticket, let desk = services.desk {
                    await desk.customerDisconnected(ticket: ticket, outbox: outbox, saidBye: true)
                    phase = .bot
                }
                if stored { try await services.database.closeSession(id: sessionID, at: services.clock.now()) }
                return ([.bye(text: BotMessages.goodbye)], true)
            }
        } catch {
            services.logger.error("Chat message failed", metadata: [
                "session": .string(sessionID), "error": .string(PIIMasker.mask(String(describing: error))),
            ])
            if case .say(let text) = message, ticket == nil, let messages = await handOffAfterError(text: text) {
                return (messages, false)
            }
            return ([.error(code: .internalError,
                            message: BotMessages.somethingWentWrong)], false)
        }
    }

    /// A message while waiting for or talking to a person. Nil when the ticket is over and the bot answers again.
    private func toTicket(_ ticket: Int64, text: String) async throws -> [ServerMessage]? {
        guard let desk = services.desk else { return nil }
        let messages = services.engine.engine.messages
        if LeaveQueueRequest.detect(text),
           try await desk.cancel(ticket: ticket, sessionID: sessionID, customerText: text, reply: messages.leftQueue) {
            phase = .bot
            return [.queueLeft(ticket: ticket, text: messages.leftQueue)]
        }
        // "you can reach me at jo@example.com": an address for the team's reply by e-mail.
        if let address = PIIMasker.emailAddresses(in: text).last,
           let reply = try await desk.leaveReplyEmail(ticket: ticket, sessionID: sessionID, text: text, address: address) {
            return [.received(ticket: ticket, text: reply)]
        }
        // While waiting, a question an article answers gets its answer (the customer need not wait hours for
        // "what time do you open?"); asking for a person again, anger or a topic for the team just join the ticket.
        let engine = services.engine.engine
        var next = context
        let turn = engine.respond(to: text, context: &next)
        // Only answers from the knowledge articles: "hello?? anyone" is for the team, not small talk.
        var answer: BotReply?
        let isArticle = turn.reply.intent.flatMap { engine.knowledgeBase.intent($0) }.map { intent in
            if case .article = intent.response { return true } else { return false }
        } ?? false
        if turn.handoff == nil && turn.reply.action == .answer && !turn.reply.wantsHandoff && isArticle
            && !turn.reply.offersPerson {
            answer = turn.reply
            answer?.text += " " + messages.stillWaiting
        }
        let (status, answered) = try await desk.customerSaid(ticket: ticket, sessionID: sessionID, text: text,
                                                             botAnswer: answer)
        switch status {
        case .waiting where answered:
            context = next
            return [.reply(answer ?? turn.reply, kbVersion: engine.version)]
        case .waiting:
            return [.received(ticket: ticket, text: messages.addedToTicket)]
        case .withAgent:
            return [.received(ticket: ticket, text: nil)]
        case .over:
            // The person's closing ("rate us from 1 to 5") came just before this message.
            phase = .rating(ticket, justAsked: true)
            return nil
        }
    }

    /// Stores the exchange and sends the reply, or hands the chat to a person when the policy says so.
    private func finish(_ turn: BotTurn, customerText: String, engine: SupportEngine,
                        context next: DialogueContext) async throws -> [ServerMessage] {
        guard let decision = turn.handoff, let desk = services.desk else {
            var reply = turn.reply
            // Offering a person out of hours says when people are back, so the customer can choose knowing it.
            if reply.offersPerson, let desk = services.desk, let backAt = await desk.awayUntil() {
                reply.text += " " + engine.messages.awayBeforeOffer(backAt: backAt)
            }
            try await store(customerText: customerText, reply: reply, engine: engine, context: next)
            context = next
            return [.reply(reply, kbVersion: engine.version)]
        }
        var handedOff = next
        handedOff.handOff()
        let now = services.clock.now()
        var entries = [TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: customerText,
                                       intent: turn.reply.intent, confidence: turn.reply.confidence, action: .handoff,
                                       kbVersion: engine.version)]
        // Out of hours, a topic for the team still gets its written reply first ("call your bank too"): what to do
        // now, while the team is away. When people are there, the handoff says it all.
        let away = await desk.teamIsAway()
        let writtenReply = decision.triggers.contains(.handoffTopic) && !decision.triggers.contains(.askedForPerson)
            && away ? turn.reply : nil
        if let writtenReply {
            entries.append(TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: writtenReply.text,
                                           intent: writtenReply.intent, confidence: writtenReply.confidence,
                                           action: TranscriptAction(writtenReply.action), kbVersion: engine.version))
        }
        let record = chatTurn(context: handedOff, kbVersion: engine.version, entries: entries, at: now)
        let (id, messages) = try await desk.open(turn: record, decision: decision, mood: turn.mood,
                                                 match: turn.reply.match, upset: turn.mood.isUpset,
                                                 preview: await preview(customerText), outbox: outbox)
        sessionStored()
        context = handedOff
        phase = .ticket(id)
        return (writtenReply.map { [ServerMessage.reply($0, kbVersion: engine.version)] } ?? []) + messages
    }

    /// What the queue shows for a new ticket: the customer's question. When the message that handed off says
    /// little on its own ("1", "yes", "thanks a lot!", "human"), the last message of theirs that did.
    private func preview(_ text: String) async -> String {
        guard TextNormalizer.tokens(text).count < 3 || PersonRequest.detect(text), stored else { return text }
        let earlier = (try? await services.database.transcript(sessionID: sessionID))?.reversed().first {
            $0.speaker == .customer && $0.action == nil && TextNormalizer.tokens($0.text).count >= 3
                && !PersonRequest.detect($0.text)
        }
        return earlier.map { "\($0.text) (then: \(text))" } ?? text
    }

    /// The bot failed on a message: hand the chat to a person rather than leave the customer stuck.
    private func handOffAfterError(text: String) async -> [ServerMessage]? {
        guard let desk = services.desk else { return nil }
        let engine = services.engine.engine
        let decision = HandoffDecision(reason: .internalError, triggers: [.internalError],
                                       level: HandoffReason.internalError.baseLevel, tags: [],
                                       explanation: "internal_error → \(HandoffReason.internalError.baseLevel.name)")
        let mood = MoodReading(message: 0, conversation: context.mood.conversation, reasons: [], isAngry: false,
                               isUpset: false)
        let entry = TranscriptEntry(sessionID: sessionID, at: services.clock.now(), speaker: .customer, text: text, action: .handoff,
                                    kbVersion: engine.version)
        let record = chatTurn(context: context, kbVersion: engine.version, entries: [entry], at: services.clock.now())
        guard let (id, messages) = try? await desk.open(turn: record, decision: decision, mood: mood, match: nil,
                                                        upset: false, preview: text, outbox: outbox) else { return nil }
        sessionStored()
        phase = .ticket(id)
        return messages
    }

    /// An exchange to store. A chat is stored with its first exchange (`startsSession`), in the same transaction: a
    /// new connection's welcome writes nothing, and its first answer costs one write.
    private func chatTurn(context: DialogueContext, kbVersion: Int, entries: [TranscriptEntry], at: Date) -> ChatTurn {
        ChatTurn(sessionID: sessionID, context: context.storedJSON(), kbVersion: kbVersion, entries: entries, at: at,
                 startsSession: !stored)
    }

    /// The exchange made by `chatTurn` is stored: the chat exists, and can be resumed on this connection.
    private func sessionStored() {
        guard !stored else { return }
        stored = true
        services.liveSessions.take(sessionID, connection: ObjectIdentifier(self), outbox: outbox)
    }

    private func store(customerText: String, reply: BotReply, engine: SupportEngine,
                       context: DialogueContext) async throws {
        let now = services.clock.now()
        let entries = [
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: customerText, kbVersion: engine.version),
            TranscriptEntry(sessionID: sessionID, at: now, speaker: .bot, text: reply.text, intent: reply.intent,
                            confidence: reply.confidence, action: TranscriptAction(reply.action), kbVersion: engine.version),
        ]
        _ = try await services.database.record(chatTurn(context: context, kbVersion: engine.version, entries: entries,
                                                        at: now))
        sessionStored()
    }

    private func rate(score: Int, comment: String?) async throws {
        let engine = services.engine.engine
        let candidate: Int64? = switch phase {
        case .bot: nil
        case .ticket(let id), .rating(let id, _): id
        }
        if let desk = services.desk, let candidate, try await desk.rate(ticket: candidate, score: score, comment: comment) {
            phase = .bot
        }
        let now = services.clock.now()
        let text = "Rated \(score) of 5" + (comment.map { ": \($0)" } ?? "")
        let entry = TranscriptEntry(sessionID: sessionID, at: now, speaker: .customer, text: text,
                                    action: .rate, kbVersion: engine.version)
        _ = try await services.database.record(chatTurn(context: context, kbVersion: engine.version, entries: [entry],
                                                        at: now))
        sessionStored()
    }

    private func resume(_ id: String) async throws -> [ServerMessage] {
        guard let session = try await services.database.session(id: id) else {
            return [.error(code: .unknownSession,
                           message: BotMessages.chatNotFound)]
        }
        if let ticket, let desk = services.desk, session.id != sessionID {
            // This connection was waiting in another chat's line: that chat is left behind.
            await desk.customerDisconnected(ticket: ticket, outbox: outbox, saidBye: false)
        }
        phase = .bot
        if session.id != sessionID { services.liveSessions.release(sessionID, connection: ObjectIdentifier(self)) }
        sessionID = session.id
        // Before the desk sends the ticket's events here; the connection that had the chat is told and closed, and
        // its closing is not taken for the customer leaving.
        services.liveSessions.take(id, connection: ObjectIdentifier(self), outbox: outbox)
        context = (try? DialogueContext(storedJSON: session.context)) ?? DialogueContext()
        stored = true
        let transcript = try await services.database.transcript(sessionID: id)
        let formatter = ISO8601DateFormatter()
        // Agents' internal notes and system lines are for the team only.
        let visible = transcript.filter { $0.action != .note && $0.speaker != .system }
        let history = visible.suffix(services.configuration.resumeHistory).map {
            ServerMessage.HistoryItem(from: $0.speaker.rawValue, text: $0.text, at: formatter.string(from: $0.at))
        }
        let engine = services.engine.engine
        var messages: [ServerMessage] = [.welcome(session: id, text: BotMessages.welcomeBack,
                                                  kbVersion: engine.version, resumed: true, history: Array(history))]
        if let desk = services.desk {
            if let open = try await services.database.openTicket(sessionID: id) {
                phase = .ticket(open.id)
                messages += try await desk.rejoin(ticket: open.id, sessionID: id, outbox: outbox)
            } else if let latest = try await services.database.latestTicket(sessionID: id), latest.state == .closed,
                      latest.rating == nil {
                phase = .rating(latest.id, justAsked: false)
                // Closed in the last day and not rated: say it was closed, and ask for the rating again.
                if let closedAt = latest.closedAt, services.clock.now().timeIntervalSince(closedAt) < 24 * 3600 {
                    let name = latest.agentName ?? "Our team"
                    messages.append(.agentLeft(agent: name, text: engine.messages.agentClosed(name), askRating: true))
                    phase = .rating(latest.id, justAsked: true)
                }
            }
        }
        return messages
    }

    /// A message that is a 1–5 rating: the number first ("5", "4/5", "3 out of 5", "5 stars"), then an optional
    /// comment after a comma, dash or full stop ("5, thanks Sam!"). Nil for anything else.
    static func typedRating(_ text: String) -> (score: Int, comment: String?)? {
        var rest = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        guard let first = rest.first, let score = first.wholeNumberValue, (1...5).contains(score) else { return nil }
        rest = rest.dropFirst()
        if rest.first?.isNumber == true { return nil }
        for suffix in ["/5", " / 5", " out of 5", " of 5", " stars", " star"] where rest.lowercased().hasPrefix(suffix) {
            rest = rest.dropFirst(suffix.count)
            break
        }
        // After the number: nothing, or a comment after a comma, dash, full stop… and a space ("5 pairs of socks",
        // "3-pack", "1.5 kg" are not ratings).
        let afterSpaces = rest.drop { $0 == " " }
        if let separator = afterSpaces.first {
            guard ",.!-–:;".contains(separator) else { return nil }
            let next = afterSpaces.dropFirst().first
            guard next == nil || next == " " || ",.!".contains(next!) else { return nil }
        }
        let comment = afterSpaces.drop { ",.!-–:; ".contains($0) }.trimmingCharacters(in: .whitespaces)
        return (score, comment.isEmpty ? nil : comment)
    }
}
