import Synchronization
import SupportBotCore

/// The engine in use right now. A new knowledge-base version is swapped in whole; a reply in progress
/// keeps the engine it started with, so every reply comes from exactly one version.
public final class LiveEngine: Sendable {
    private let current: Mutex<SupportEngine>

    public init(_ engine: SupportEngine) { current = Mutex(engine) }

    public var engine: SupportEngine { current.withLock { $0 } }

    public func swap(to engine: SupportEngine) { current.withLock { $0 = engine } }
}
