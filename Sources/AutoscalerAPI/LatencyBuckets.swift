/// Request durations as a histogram with fixed bounds: part of the balancer's `/api/v1/stats`.
///
/// Counts are cumulative since the balancer started (like every counter there), so a reader takes
/// two snapshots and asks ``quantile(_:since:)`` for the latency over the time between them.
public struct LatencyBuckets: Codable, Sendable, Hashable {
    /// Upper bounds in seconds, ascending; a last, implicit bucket holds everything slower.
    public var boundsSeconds: [Double]
    /// Observations per bucket (not cumulative across buckets): `boundsSeconds.count + 1` entries.
    public var counts: [Int]
    public var count: Int
    public var sumSeconds: Double

    public init(boundsSeconds: [Double], counts: [Int], count: Int, sumSeconds: Double) {
        self.boundsSeconds = boundsSeconds
        self.counts = counts
        self.count = count
        self.sumSeconds = sumSeconds
    }

    /// The bounds the balancer uses: Prometheus's defaults for latency, widened to 30 s (the
    /// default response timeout).
    public static let defaultBoundsSeconds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]

    /// The `q` quantile (0...1) of the observations made after `earlier` (all of them when nil),
    /// interpolated linearly inside its bucket as Prometheus's `histogram_quantile` does; nil when
    /// there were none or the bounds differ.
    public func quantile(_ q: Double, since earlier: LatencyBuckets? = nil) -> Double? {
        // In Double: counts come from another process, and Int arithmetic on them trapped on
        // overflow (found by scripts/fuzz.sh api-bodies). A bucket that went down is a restart.
        var window = counts.map(Double.init)
        if let earlier {
            guard earlier.boundsSeconds == boundsSeconds, earlier.counts.count == counts.count else { return nil }
            for index in window.indices { window[index] -= Double(earlier.counts[index]) }
        }
        guard window.allSatisfy({ $0 >= 0 }) else { return nil }
        let total = window.reduce(0, +)
        guard total > 0, window.count == boundsSeconds.count + 1 else { return nil }
        let rank = min(max(q, 0), 1) * total
        var seen = 0.0
        for (index, inBucket) in window.enumerated() where inBucket > 0 {
            if seen + inBucket >= rank {
                guard index < boundsSeconds.count else { return boundsSeconds.last }
                let lower = index == 0 ? 0 : boundsSeconds[index - 1]
                let fraction = (rank - seen) / inBucket
                return lower + (boundsSeconds[index] - lower) * fraction
            }
            seen += inBucket
        }
        return boundsSeconds.last
    }
}
