import Foundation
import SupportBotCore
import SupportBotStore

// What agents are shown of tickets: a queue entry, and everything about a claimed chat.

extension HandoffDesk {
    /// A ticket as the queue view shows it to this agent.
    func summary(_ ticket: Ticket, now: Date, for agentID: Int64) -> TicketSummary {
        TicketSummary(
            ticket: ticket.id, priority: EscalationLevel(rawValue: ticket.level)?.name ?? "medium", reason: ticket.reason,
            waitingSeconds: max(0, Int(now.timeIntervalSince(ticket.queuedAt))), tags: ticket.tags,
            preview: ticket.preview, state: ticket.state, customerOnline: customers[ticket.id] != nil,
            skill: ticket.skill, agent: ticket.agentName, replyEmail: ticket.replyEmail,
            forYou: ticket.state == .waiting && queue.members[agentID] != nil
                ? queue.mayTake(agentID, Self.queued(ticket)) : nil)
    }

    /// Everything an agent needs so the customer never repeats themselves.
    func claimedEvent(_ ticket: Ticket, sticky: Bool, transferredFrom: String?) async throws -> AgentEvent {
        let transcript = try await database.transcript(sessionID: ticket.sessionID)
        let details = (try? JSONDecoder().decode(TicketDetails.self, from: Data(ticket.details.utf8)))
        let lines = transcript.map { entry in
            ClaimedChat.Line(from: entry.action == .note ? "note" : entry.speaker.rawValue, text: entry.text,
                             at: entry.at, intent: entry.intent, confidence: entry.confidence, author: entry.author)
        }
        return .claimed(ClaimedChat(
            ticket: ticket.id, session: ticket.sessionID, reason: ticket.reason,
            priority: EscalationLevel(rawValue: ticket.level)?.name ?? "medium", tags: ticket.tags, mood: ticket.mood,
            moodReasons: details?.moodReasons ?? [],
            candidates: (details?.candidates ?? []).map { .init(intent: $0.intent, title: $0.title, score: $0.score) },
            why: details?.explanation ?? "",
            whyInWords: HandoffReason.inWords(triggers: details?.triggers ?? [ticket.reason],
                                              moodReasons: details?.moodReasons ?? [], tags: ticket.tags),
            customerOnline: customers[ticket.id] != nil, transcript: lines, replyEmail: ticket.replyEmail,
            sticky: sticky, transferredFrom: transferredFrom))
    }
}
