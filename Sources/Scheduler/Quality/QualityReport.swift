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

    /// The report of `samples` (in time order, one per tick of `step` seconds) and the scaling
    /// `events` of the same stretch.
    public init(since: Double, samples: [Sample], events: [ScalingEvent], capacity: Double, step: Double, maximum: Int) {
        self.since = since
        self.capacity = capacity
        seconds = Double(samples.count) * step
        let demand = samples.map { capacity > 0 ? ($0.requestRate / capacity).rounded(.up) : 0 }
        let supply = samples.map { Double($0.inService) }
        instanceSeconds = samples.reduce(0) { $0 + Double($1.inService + $1.pending) * step }
        underProvisionedSeconds = zip(demand, supply).reduce(0) { $0 + ($1.1 < $1.0 ? step : 0) }
        actions = events.filter { $0.kind == .scaleUp || $0.kind == .scaleDown }.count
        metrics = samples.isEmpty ? nil : ElasticityMetrics(demand: demand, supply: supply, step: step, maximum: Double(maximum))
    }
}
