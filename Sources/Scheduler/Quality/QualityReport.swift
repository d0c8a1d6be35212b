import Foundation

/// How well the live scheduler kept up over a stretch of its history (`GET /api/v1/quality`):
/// the same figures as `scheduler simulate`, with the demand derived from the measured request
/// rate and the configured capacity of an instance.
public struct QualityReport: Sendable, Equatable, Codable {
    public var since: Double
    /// Seconds of history it covers.
    public var seconds: Double
    /// Requests per second one instance serves (`--capacity`).
    public var capacity: Double
    /// Instances in existence (serving or starting) times seconds.
    public var instanceSeconds: Double
    /// Scaling actions in the stretch (scale-ups and scale-downs).
    public var actions: Int
    /// Seconds in which fewer instances served than the demand.
    public var underProvisionedSeconds: Double
    /// Nil without samples.
    public var metrics: ElasticityMetrics?

    /// The report of `samples` (in time order, one per tick of `step` seconds when all is well)
    /// and the scaling `events` of the same stretch.
    ///
    /// A sample stands for the time until the next one, at most ten ticks (the loop ticks less
    /// often while the balancer or the provider does not answer; a longer gap is a stop, not
    /// time served): the series is laid on a grid of `step` seconds for the metrics.
    public init(since: Double, samples: [Sample], events: [ScalingEvent], capacity: Double, step: Double, maximum: Int) {
        self.since = since
        self.capacity = capacity
        var tally = QualityTally(capacity: capacity, step: step, expectedSamples: samples.count)
        for (index, sample) in samples.enumerated() {
            let next = index + 1 < samples.count ? samples[index + 1].time : sample.time + tally.step
            let span = min(max(next - sample.time, tally.step), 10 * tally.step)
            tally.add(rate: sample.requestRate, inService: sample.inService, pending: sample.pending, span: span)
        }
        seconds = tally.seconds
        instanceSeconds = tally.instanceSeconds
        underProvisionedSeconds = tally.underProvisionedSeconds
        let first = samples.first?.time ?? since
        let last = samples.last?.time ?? since
        actions = events.filter { ($0.kind == .scaleUp || $0.kind == .scaleDown) && $0.time >= first && $0.time <= last }.count
        metrics = tally.metrics(maximum: maximum)
    }
}
