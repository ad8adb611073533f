import Foundation
import Logging
import Synchronization
import SupportBotCore
import SupportBotStore

/// A session lives on one connection at a time: when a second connection resumes it (another tab, a reconnect
/// before the old socket noticed it was gone), the older one is told `open_elsewhere` and closed. So agent messages,
/// queue updates and the customer's words all go through the one connection the customer is using.
final class LiveSessions: Sendable {
    private struct Holder {
        var connection: ObjectIdentifier
        var outbox: Outbox
    }

    private let holders = Mutex<[String: Holder]>([:])
    /// Connections closed because another took their session: their closing is not the customer leaving.
    private let displaced = Mutex<Set<ObjectIdentifier>>([])

    /// `outbox` now holds `session`; the connection that held it before is told and closed.
    func take(_ session: String, connection: ObjectIdentifier, outbox: Outbox) {
        let previous = holders.withLock { holders -> Holder? in
            defer { holders[session] = Holder(connection: connection, outbox: outbox) }
            return holders[session]
        }
        guard let previous, previous.connection != connection else { return }
        displaced.withLock { _ = $0.insert(previous.connection) }
        previous.outbox.send(ServerMessage.error(code: .openElsewhere, message: BotMessages.openElsewhere).jsonLine())
        previous.outbox.finishAndClose()
    }

    /// The connection is gone, or moved to another session.
    func release(_ session: String, connection: ObjectIdentifier) {
        holders.withLock { holders in
            if holders[session]?.connection == connection { holders.removeValue(forKey: session) }
        }
    }

    /// Whether another connection took this one's session (asked once, when it closes).
    func wasDisplaced(_ connection: ObjectIdentifier) -> Bool {
        displaced.withLock { $0.remove(connection) != nil }
    }
}
