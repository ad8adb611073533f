/// A token bucket per connection: `burst` messages at once, then `perSecond` on average.
struct RateLimiter {
    private let burst: Double
    private let perSecond: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(burst: Int, perSecond: Double, now: ContinuousClock.Instant = .now) {
        self.burst = Double(max(1, burst))
        self.perSecond = perSecond
        self.tokens = Double(max(1, burst))
        self.last = now
    }

    mutating func allow(now: ContinuousClock.Instant = .now) -> Bool {
        let elapsed = now - last
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * perSecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
