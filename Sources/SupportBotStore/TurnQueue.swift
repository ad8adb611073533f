import Synchronization

/// Group commit for chat turns. Turns that arrive while a transaction is being written wait here, and the next
/// transaction writes all of them at once: under load, one commit (and one trip to the database's writer thread)
/// serves many chats instead of one each. Every caller still gets its answer only after its turn is committed.
final class TurnQueue: Sendable {
    struct Waiting: Sendable {
        let turn: ChatTurn
        let maskedTexts: [String]
        let continuation: CheckedContinuation<[TranscriptEntry], any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var draining = false
        var largestBatch = 0
    }

    private let state = Mutex(State())

    /// When no one is writing and nothing waits, makes the caller the writer (true): it writes its own turn at once,
    /// with no extra hop, then calls `finishDirect()`. Under load this is false, and the turn joins the queue.
    func claimIfIdle() -> Bool {
        state.withLock { state in
            guard !state.draining, state.waiting.isEmpty else { return false }
            state.draining = true
            return true
        }
    }

    /// After a direct write: true when turns arrived meanwhile (the caller must start a drainer for them);
    /// false when none did (the queue is idle again).
    func finishDirect() -> Bool {
        state.withLock { state in
            if state.waiting.isEmpty { state.draining = false }
            return state.draining
        }
    }

    /// Adds a turn. True when no one is draining the queue: the caller must start doing so.
    func add(_ waiting: Waiting) -> Bool {
        state.withLock { state in
            state.waiting.append(waiting)
            if state.draining { return false }
            state.draining = true
            return true
        }
    }

    /// Everything waiting, or nil when nothing is (the drainer then stops, atomically with the check).
    func takeBatch() -> [Waiting]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.draining = false
                return nil
            }
            defer { state.waiting = [] }
            state.largestBatch = max(state.largestBatch, state.waiting.count)
            return state.waiting
        }
    }

    /// The most turns one transaction has written so far (for tests and curiosity).
    var largestBatch: Int { state.withLock { $0.largestBatch } }
}
