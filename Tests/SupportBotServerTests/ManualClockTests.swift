import Foundation
import Testing
@testable import SupportBotServer

@Suite("Manual clock")
struct ManualClockTests {
    @Test("a sleeper wakes once time is moved to its deadline; a cancelled one throws")
    func sleepers() async throws {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let clock = ManualClock(now: start)
        let deadline = start.addingTimeInterval(30)
        let sleeper = Task { try await clock.sleep(until: deadline) }
        try await withSafetyNet { await clock.waitForSleeper(until: deadline) }
        clock.advance(by: 29)
        let cancelled = Task { try await clock.sleep(until: start.addingTimeInterval(3600)) }
        try await withSafetyNet { await clock.waitForSleeper(until: start.addingTimeInterval(3600)) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        clock.advance(by: 1)
        try await sleeper.value
        #expect(clock.now() == deadline)
        // A deadline that has passed returns at once.
        try await clock.sleep(until: start)
    }
}
