import Foundation
import Synchronization

/// Wall-clock time for the server's records and deadlines (grace periods, opening hours). The server asks this,
/// never `Date()`, so tests can move time on instead of waiting for it.
public protocol ServerClock: Sendable {
    func now() -> Date
    /// Returns at `deadline` (at once if it has passed); throws `CancellationError` if the task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The machine's clock.
public struct SystemClock: ServerClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
        try Task.checkCancellation()
    }
}

/// A clock that moves only when told (`advance(by:)`), for tests: a grace period of 30 s passes at once, and
/// nothing happens before its time however slow the machine is.
public final class ManualClock: ServerClock {
    private struct Sleeper {
        var until: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        var cancelled: Set<Int> = []
        var watchers: [(until: Date, continuation: CheckedContinuation<Bool, Never>)] = []
    }

    private let state: Mutex<State>

    public init(now: Date = Date()) {
        state = Mutex(State(now: now))
    }

    public func now() -> Date { state.withLock { $0.now } }

    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, watchers): (Result<Void, any Error>?, [CheckedContinuation<Bool, Never>]) =
                    state.withLock { state in
                        if state.cancelled.remove(id) != nil { return (.failure(CancellationError()), []) }
                        if deadline <= state.now { return (.success(()), []) }
                        state.sleepers[id] = Sleeper(until: deadline, continuation: continuation)
                        let woken = state.watchers.filter { $0.until == deadline }.map(\.continuation)
                        state.watchers.removeAll { $0.until == deadline }
                        return (nil, woken)
                    }
                for watcher in watchers { watcher.resume(returning: false) }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                if let sleeper = state.sleepers.removeValue(forKey: id) { return Optional(sleeper) }
                state.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time on and wakes everyone whose deadline has come.
    public func advance(by seconds: Double) {
        let woken = state.withLock { state in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let due = state.sleepers.filter { $0.value.until <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once `count` timers sleep until exactly `deadline` (timers the server set for it).
    public func waitForSleeper(until deadline: Date, count: Int = 1) async {
        while true {
            // Each new sleeper until `deadline` wakes the watchers, which look again.
            let enough = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let sleeping = state.withLock { state -> Bool in
                    if state.sleepers.values.filter({ $0.until == deadline }).count >= count { return true }
                    state.watchers.append((deadline, continuation))
                    return false
                }
                if sleeping { continuation.resume(returning: true) }
            }
            if enough { return }
        }
    }
}
