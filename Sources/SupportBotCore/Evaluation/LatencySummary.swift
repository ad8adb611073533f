/// Median, 99th percentile and maximum of a set of timings.
public struct LatencySummary: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p99: Double
    public var max: Double

    /// - Parameter samples: timings in any unit; the summary is in the same unit.
    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        guard let last = sorted.last else {
            p50 = 0
            p99 = 0
            max = 0
            return
        }
        p50 = sorted[sorted.count / 2]
        p99 = sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        max = last
    }
}
