import Logging
import NIOCore
import SupportBotCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Everything written to one connection: replies, and pushes from elsewhere (an agent's message, a queue update).
/// Each line is handed straight to the channel, which writes lines whole and in the order they were sent, so no
/// task per connection sits waiting to relay them.
public final class Outbox: Sendable {
    private let channel: any Channel
    private struct State {
        /// Lines handed to the channel and not yet written.
        var pending = 0
        var open = true
        var closeWhenWritten = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    private let hold = Mutex(false)

    init(channel: any Channel) { self.channel = channel }

    /// False once the connection is finishing (closed, or told to close).
    var isOpen: Bool { state.withLock { $0.open } }

    /// The client's IP address (without the port), or "unknown".
    var clientAddress: String { channel.remoteAddress?.ipAddress ?? "unknown" }

    /// Set while the client waits for or talks to a person: quiet is then expected, not a reason to close.
    var holdsOpen: Bool {
        get { hold.withLock { $0 } }
        set { hold.withLock { $0 = newValue } }
    }

    /// Lines sent but not yet written. A client that stops reading while sending on would make this grow without
    /// end; past `maxPending` the connection is closed at once (what is still queued would never be read).
    static let maxPending = 1_000

    /// Writes one encoded line; ignored once the connection is finishing.
    func send(_ line: [UInt8]) {
        let accepted: Bool? = state.withLock { state in
            guard state.open else { return nil }
            guard state.pending < Self.maxPending else { return false }
            state.pending += 1
            return true
        }
        switch accepted {
        case nil: return
        case false?:
            finish()
            channel.close(promise: nil)
            // On a WebSocket the first close only queues a close frame, behind the lines this client is not reading;
            // the second goes through and closes the socket.
            channel.close(promise: nil)
        case true?: channel.writeAndFlush(ByteBuffer(bytes: line)).whenComplete { _ in self.written() }
        }
    }

    private func written() {
        let (waiters, close) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Bool) in
            state.pending -= 1
            guard state.pending == 0, !state.open else { return ([], false) }
            defer { state.drainWaiters = [] }
            return (state.drainWaiters, state.closeWhenWritten)
        }
        for waiter in waiters { waiter.resume() }
        if close { channel.close(promise: nil) }
    }

    /// No more lines are taken; those sent already are still written.
    func finish() { state.withLock { $0.open = false } }

    /// Writes what was sent, then closes the connection (for example when the same agent signs in elsewhere).
    func finishAndClose() {
        let closeNow = state.withLock { state -> Bool in
            state.open = false
            state.closeWhenWritten = true
            return state.pending == 0
        }
        if closeNow { channel.close(promise: nil) }
    }

    /// Returns once every line sent has been written (or has failed because the connection is gone). Call after
    /// `finish()`.
    func drained() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard state.pending > 0 else { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
