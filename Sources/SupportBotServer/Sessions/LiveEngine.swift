import Foundation
import Synchronization
import SupportBotCore

/// The engine in use right now. A new knowledge-base version is swapped in whole; a reply in progress
/// keeps the engine it started with, so every reply comes from exactly one version.
public final class LiveEngine: Sendable {
    private let current: Mutex<SupportEngine>

    public init(_ engine: SupportEngine) { current = Mutex(engine) }

    public var engine: SupportEngine { current.withLock { $0 } }

    public func swap(to engine: SupportEngine) { current.withLock { $0 = engine } }

    /// Runs `work` (loading a knowledge base, building its engine) on a thread of its own and waits for it without
    /// holding a thread. A build keeps a core busy for a while and waits for the doubt model's threads; on the
    /// Swift concurrency pool (one thread per core) it would take a thread that serves chats for all that time.
    public static func offPool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}
