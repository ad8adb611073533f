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
