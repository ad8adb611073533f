import Foundation
import Logging
import Synchronization
import Testing
@testable import SupportBotServer

/// Keeps what is logged, for tests of what a server writes to its log.
final class RecordedLog: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lines = Mutex<[Line]>([])
    var all: [Line] { lines.withLock { $0 } }

    var logger: Logger {
        Logger(label: "recorded") { _ in Handler(log: self) }
    }

    fileprivate func append(_ line: Line) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append(Line(level: event.level, message: event.message.description,
                            metadata: (event.metadata ?? [:]).mapValues { "\($0)" }))
        }
    }
}

@Suite("Failed agent logins: slowed per address, logged in summary")
struct LoginGuardTests {
    let start = ContinuousClock.now

    @Test("after the allowed failures one try comes back per period; other addresses are not touched")
    func slowsOneAddress() {
        let log = RecordedLog()
        let guard_ = LoginGuard(policy: .init(allowedFailures: 3, refillSeconds: 10), logger: log.logger)
        for n in 0..<3 {
            #expect(guard_.check("10.0.0.9", now: start + .seconds(n)) == .allowed)
            guard_.recordFailure("10.0.0.9", now: start + .seconds(n))
        }
        // 3 failures at 0, 1 and 2 s: the bucket had refilled 0.2 by then, so the next try is 8 s off.
        #expect(guard_.check("10.0.0.9", now: start + .seconds(2)) == .slowed(retryAfterSeconds: 8))
        #expect(guard_.check("10.0.0.8", now: start + .seconds(2)) == .allowed)
        #expect(guard_.check("10.0.0.9", now: start + .seconds(10)) == .allowed)
        guard_.recordFailure("10.0.0.9", now: start + .seconds(10))
        #expect(guard_.check("10.0.0.9", now: start + .seconds(11)) == .slowed(retryAfterSeconds: 9))
        // Quiet for long enough, it has every try back.
        for n in 0..<3 {
            #expect(guard_.check("10.0.0.9", now: start + .seconds(100 + n)) == .allowed)
            guard_.recordFailure("10.0.0.9", now: start + .seconds(100 + n))
        }
        #expect(guard_.check("10.0.0.9", now: start + .seconds(102)) != .allowed)
    }

    @Test("thousands of guesses give a handful of log lines, each with the count since the last")
    func logsInSummary() {
        let log = RecordedLog()
        let guard_ = LoginGuard(policy: .init(allowedFailures: 10, refillSeconds: 6, summarySeconds: 60),
                                logger: log.logger)
        // 5,000 attempts over 100 s: the first 10 fail, then most are refused while slowed.
        var failed = 0, refused = 0
        for n in 0..<5_000 {
            let now = start + .milliseconds(n * 20)
            if guard_.check("10.0.0.9", now: now) == .allowed {
                guard_.recordFailure("10.0.0.9", now: now)
                failed += 1
            } else {
                refused += 1
            }
        }
        let lines = log.all
        #expect(lines.count == 2, "\(lines.map(\.message))")
        #expect(lines.first?.message == "Agent login failed")
        #expect(lines.first?.metadata["failed"] == "1")
        #expect(lines.last?.level == .warning)
        #expect(lines.last?.metadata["remote"] == "10.0.0.9")
        // Everything up to the second line is counted in one of the two lines.
        let counted = lines.compactMap { Int($0.metadata["failed"] ?? "") }.reduce(0, +)
            + lines.compactMap { Int($0.metadata["refused_while_slowed"] ?? "") }.reduce(0, +)
        #expect(counted <= failed + refused && counted > 2_000, "\(counted) of \(failed + refused)")
        // About 10 + 100 s / 6 s wrong tokens were looked at in all.
        #expect((25...28).contains(failed), "\(failed)")
    }

    @Test("tries are taken when checked: many connections can't all try on the last one; a right token gives it back")
    func triesAreTakenAtCheck() {
        let guard_ = LoginGuard(policy: .init(allowedFailures: 2, refillSeconds: 600), logger: RecordedLog().logger)
        // Three connections check at once, before any of them knows its token was wrong: only two may try.
        let verdicts = (0..<3).map { _ in guard_.check("10.0.0.9", now: start) }
        #expect(verdicts.filter { $0 == .allowed }.count == 2)
        guard_.recordFailure("10.0.0.9", now: start)
        guard_.recordSuccess("10.0.0.9", now: start)
        #expect(guard_.check("10.0.0.9", now: start) == .allowed)
        #expect(guard_.check("10.0.0.9", now: start) != .allowed)
    }

    @Test("a flood of new addresses does not grow the table without bound")
    func forgetsOldAddresses() {
        let guard_ = LoginGuard(policy: .init(maxAddresses: 100), logger: RecordedLog().logger)
        for n in 0..<1_000 {
            let address = "10.0.\(n / 256).\(n % 256)"
            _ = guard_.check(address, now: start + .milliseconds(n))
            guard_.recordFailure(address, now: start + .milliseconds(n))
        }
        #expect(guard_.rememberedAddresses <= 100)
    }
}
