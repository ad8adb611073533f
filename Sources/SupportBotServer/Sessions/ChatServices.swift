import Foundation
import Logging
import Synchronization
import SupportBotCore
import SupportBotStore

/// Shared by every connection: the live engine, the database, limits and the logger.
public struct ChatServices: Sendable {
    public var engine: LiveEngine
    public var database: SupportBotDatabase
    public var configuration: ServerConfiguration
    public var logger: Logger
    /// The human side; nil runs the bot alone (handoff intents then get their written reply).
    public var desk: HandoffDesk?
    /// The time for records; the desk has the same clock.
    public var clock: any ServerClock
    /// Which connection each resumed session is on.
    let liveSessions = LiveSessions()

    public init(engine: LiveEngine, database: SupportBotDatabase, configuration: ServerConfiguration, logger: Logger,
                desk: HandoffDesk? = nil, clock: any ServerClock = SystemClock()) {
        self.engine = engine
        self.clock = clock
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.desk = desk
    }
}
