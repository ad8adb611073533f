import Foundation
import Logging
import Synchronization

/// Slows token guessing on the agent port (TCP and `/agent` alike), per client address. Each address may get
/// `allowedFailures` tokens wrong in a row at once; after that one more wrong token is allowed per
/// `refillSeconds` (a token bucket). While an address has none left, its logins are refused with `login_slowed`
/// before the token is even looked at, so a guesser learns nothing, however many connections it opens. A right token
/// does not refill the bucket (a guesser could hold one valid token of their own).
///
/// Failed logins are logged in summary: the first of a burst is logged at once, later ones are counted and logged
/// together at most once a minute per address, so guessing can't fill the disk with log lines.
final class LoginGuard: Sendable {
    struct Policy: Sendable {
        var allowedFailures: Int = 10
        var refillSeconds: Double = 6
        /// How often at most one address's failures are logged.
        var summarySeconds: Double = 60
        /// Addresses remembered at once; beyond it the ones that have waited longest are forgotten.
        var maxAddresses: Int = 10_000
    }

    enum Verdict: Equatable {
        case allowed
        /// Try again in this many seconds (at least 1).
        case slowed(retryAfterSeconds: Int)
    }

    private struct Entry {
        var tokens: Double
        var updated: ContinuousClock.Instant
        /// Wrong tokens and refused attempts since the last log line, and when that line was written.
        var failuresUnlogged = 0
        var refusedUnlogged = 0
        var lastLogged: ContinuousClock.Instant?
    }

    let policy: Policy
    private let logger: Logger
    private let entries = Mutex<[String: Entry]>([:])

    init(policy: Policy = Policy(), logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// Whether `address` may try a token now. An allowed try takes one from the bucket at once (so many connections
    /// from one address can't all try on the last one); `recordSuccess` gives it back. A refused attempt counts
    /// towards the address's summary.
    func check(_ address: String, now: ContinuousClock.Instant = .now) -> Verdict {
        let (verdict, summary) = entries.withLock { entries -> (Verdict, LogSummary?) in
            var entry = entries[address] ?? Entry(tokens: Double(policy.allowedFailures), updated: now)
            refill(&entry, now: now)
            guard entry.tokens < 1 else {
                entry.tokens -= 1
                if entries[address] == nil && entries.count >= policy.maxAddresses { forgetOldest(&entries) }
                entries[address] = entry
                return (.allowed, nil)
            }
            entry.refusedUnlogged += 1
            let wait = Int(((1 - entry.tokens) * policy.refillSeconds).rounded(.up))
            let summary = takeSummary(&entry, address: address, now: now)
            entries[address] = entry
            return (.slowed(retryAfterSeconds: max(1, wait)), summary)
        }
        summary.map(log)
        return verdict
    }

    /// Counts a wrong token from `address` (its try was taken by `check`).
    func recordFailure(_ address: String, now: ContinuousClock.Instant = .now) {
        let summary = entries.withLock { entries -> LogSummary? in
            var entry = entries[address] ?? Entry(tokens: Double(policy.allowedFailures) - 1, updated: now)
            refill(&entry, now: now)
            entry.failuresUnlogged += 1
            let summary = takeSummary(&entry, address: address, now: now)
            if entries[address] == nil && entries.count >= policy.maxAddresses { forgetOldest(&entries) }
            entries[address] = entry
            return summary
        }
        summary.map(log)
    }

    /// A right token: the try `check` took is given back.
    func recordSuccess(_ address: String, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            guard var entry = entries[address] else { return }
            refill(&entry, now: now)
            entry.tokens = min(Double(policy.allowedFailures), entry.tokens + 1)
            entries[address] = entry
        }
    }

    /// Addresses remembered now (tests).
    var rememberedAddresses: Int { entries.withLock { $0.count } }

    private struct LogSummary {
        var address: String
        var failures: Int
        var refused: Int
        var slowed: Bool
        var first: Bool
    }

    private func refill(_ entry: inout Entry, now: ContinuousClock.Instant) {
        let elapsed = now - entry.updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        entry.tokens = min(Double(policy.allowedFailures), entry.tokens + max(0, seconds) / policy.refillSeconds)
        entry.updated = now
    }

    /// What to log now for this address, if anything: the first failure at once, then at most one line a period.
    private func takeSummary(_ entry: inout Entry, address: String, now: ContinuousClock.Instant) -> LogSummary? {
        if let last = entry.lastLogged, now - last < .seconds(policy.summarySeconds) { return nil }
        defer {
            entry.failuresUnlogged = 0
            entry.refusedUnlogged = 0
            entry.lastLogged = now
        }
        return LogSummary(address: address, failures: entry.failuresUnlogged, refused: entry.refusedUnlogged,
                          slowed: entry.tokens < 1, first: entry.lastLogged == nil)
    }

    private func forgetOldest(_ entries: inout [String: Entry]) {
        // Forget a tenth at once, so a stream of new addresses does not sort the table on every failure.
        let oldest = entries.sorted { $0.value.updated < $1.value.updated }.prefix(max(1, entries.count / 10))
        for (address, _) in oldest { entries.removeValue(forKey: address) }
    }

    private func log(_ summary: LogSummary) {
        var metadata: Logger.Metadata = [
            "remote": .string(summary.address), "failed": .stringConvertible(summary.failures),
        ]
        if summary.refused > 0 { metadata["refused_while_slowed"] = .stringConvertible(summary.refused) }
        if summary.slowed {
            metadata["retry_every_seconds"] = .stringConvertible(policy.refillSeconds)
            logger.warning(summary.first ? "Agent logins failed; slowing logins from this address"
                               : "Agent logins failed since the last report; logins from this address are slowed",
                           metadata: metadata)
        } else {
            logger.notice(summary.first ? "Agent login failed" : "Agent logins failed since the last report",
                          metadata: metadata)
        }
    }
}
