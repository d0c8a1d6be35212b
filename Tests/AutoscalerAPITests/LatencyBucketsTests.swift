import AutoscalerAPI
import Testing

@Suite("latency histogram quantiles")
struct LatencyBucketsTests {
    static let bounds: [Double] = [0.001, 0.01, 0.1, 1]

    @Test(arguments: [
        // counts per bucket (≤1ms, ≤10ms, ≤100ms, ≤1s, slower), quantile, expected
        ([10, 0, 0, 0, 0], 0.5, 0.0005),
        ([0, 10, 0, 0, 0], 0.5, 0.0055),
        ([0, 0, 0, 10, 0], 1.0, 1.0),
        ([50, 0, 0, 0, 50], 0.99, 1.0),
        ([90, 0, 0, 10, 0], 0.95, 0.55),
        ([99, 1, 0, 0, 0], 0.99, 0.001),
    ])
    func quantileInterpolatesInsideItsBucket(counts: [Int], q: Double, expected: Double) throws {
        let buckets = LatencyBuckets(boundsSeconds: Self.bounds, counts: counts, count: counts.reduce(0, +), sumSeconds: 0)
        let value = try #require(buckets.quantile(q))
        #expect(abs(value - expected) < 1e-9)
    }

    /// Counts from another process near Int's limits trapped on overflow (found by fuzzing); a
    /// bucket that went down between two reads is a restart: no quantile.
    @Test func extremeCountsDoNotTrap() {
        let huge = LatencyBuckets(boundsSeconds: [1], counts: [.max, 5], count: 1, sumSeconds: 1)
        let negative = LatencyBuckets(boundsSeconds: [1], counts: [-(.max), 5], count: 1, sumSeconds: 1)
        #expect(huge.quantile(0.5) == 0.5)
        #expect(huge.quantile(0.5, since: negative) == 0.5)
        #expect(negative.quantile(0.5, since: huge) == nil)
    }

    @Test func windowBetweenTwoReadsCountsOnlyItsObservations() throws {
        let earlier = LatencyBuckets(boundsSeconds: Self.bounds, counts: [100, 0, 0, 0, 0], count: 100, sumSeconds: 0.05)
        let later = LatencyBuckets(boundsSeconds: Self.bounds, counts: [100, 0, 0, 10, 0], count: 110, sumSeconds: 5)
        #expect(try #require(later.quantile(0.5, since: earlier)) > 0.1)
        #expect(later.quantile(0.5, since: later) == nil)
        let otherBounds = LatencyBuckets(boundsSeconds: [1], counts: [0, 0], count: 0, sumSeconds: 0)
        #expect(later.quantile(0.5, since: otherBounds) == nil)
    }
}
