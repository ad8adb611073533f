import Foundation
import SupportBotCore
import SupportBotStore
#if canImport(Glibc)
import Glibc
#endif

/// CPU time used so far, in seconds: by the whole process (every thread, user and system), or by the calling thread.
enum CPUClock {
    static func process() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func thread() -> Double {
        var now = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0 else { return 0 }
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
}

/// Where a bot reply's CPU time goes, measured piece by piece before the load runs: the engine alone on one thread,
/// then the store alone with every chat writing at once. With both servers using all cores, the throughput ratio is
/// about echo CPU ÷ bot CPU per message, so these two pieces bound the ratio any design of the rest can reach.
struct CPUBudget {
    /// `SupportEngine.respond`, one thread, microseconds of CPU per reply.
    var engineMicroseconds: Double
    /// `SupportBotDatabase.record`, microseconds of process CPU per stored exchange (two lines and the context).
    var storeMicroseconds: Double

    /// Answers `messages` questions on one thread, `chats` conversations taking turns as the load client's do,
    /// then stores those exchanges in a new database in `folder` the way the server does.
    static func measure(engine: SupportEngine, questions: [String], chats: Int, messages: Int,
                        folder: URL) async throws -> CPUBudget {
        var contexts = [DialogueContext](repeating: DialogueContext(), count: chats)
        var turns: [[ChatTurn]] = Array(repeating: [], count: chats)
        let encoder = JSONEncoder()
        let sessionIDs = (0..<chats).map { "bench-\($0)" }
        var engineSeconds = 0.0
        for n in 0..<messages {
            let chat = n % chats
            let question = questions[(chat * 7919 + n / chats) % questions.count]
            let began = CPUClock.thread()
            let turn = engine.respond(to: question, context: &contexts[chat])
            engineSeconds += CPUClock.thread() - began
            // Not timed: what the server stores for this exchange (the same lines; the context as JSON).
            let now = Date()
            let reply = turn.reply
            let entries = [
                TranscriptEntry(sessionID: sessionIDs[chat], at: now, speaker: .customer, text: question,
                                kbVersion: engine.version),
                TranscriptEntry(sessionID: sessionIDs[chat], at: now, speaker: .bot, text: reply.text, intent: reply.intent,
                                confidence: reply.confidence, action: TranscriptAction(reply.action), kbVersion: engine.version),
            ]
            let context = String(decoding: try encoder.encode(contexts[chat]), as: UTF8.self)
            turns[chat].append(ChatTurn(sessionID: sessionIDs[chat], context: context, kbVersion: engine.version,
                                        entries: entries, at: now))
        }

        let database = try SupportBotDatabase.open(path: folder.appendingPathComponent("budget.sqlite").path)
        defer { try? database.close() }
        for id in sessionIDs {
            try await database.createSession(id: id, at: Date(), kbVersion: engine.version, context: "{}")
        }
        let began = CPUClock.process()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chat in turns {
                group.addTask { for turn in chat { try await database.record(turn) } }
            }
            try await group.waitForAll()
        }
        let storeSeconds = CPUClock.process() - began
        let count = Double(max(messages, 1))
        return CPUBudget(engineMicroseconds: engineSeconds / count * 1e6, storeMicroseconds: storeSeconds / count * 1e6)
    }

    /// The best bot ÷ echo throughput these pieces allow, were everything else in the bot (protocol, sessions,
    /// hops between threads) free: echo CPU ÷ (echo CPU + engine + store), per message.
    func ratioBound(echoMicroseconds: Double) -> Double {
        echoMicroseconds / (echoMicroseconds + engineMicroseconds + storeMicroseconds)
    }
}
