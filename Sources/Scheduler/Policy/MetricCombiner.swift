/// How several metrics decide one instance count, as the Kubernetes HPA combines them: each
/// metric's target tracking gives a desired count, the largest wins, and a scale-in needs every
/// metric to agree. A pure function of one tick's readings.
///
/// - A metric with no value this tick (a sample missing, a query that failed) neither scales out
///   nor in, and blocks a scale-in (HPA's conservative rule).
/// - Latency above its SLO (no tolerance: an SLO is a bound) asks for one more instance; at or
///   below it, it abstains: it never scales in on its own, nor holds back a scale-in that the
///   others agree on.
/// - Within `tolerance` of its target, a per-instance metric asks for the current count.
///
/// Bounds, steps and cooldowns are the planner's (``ScalingRules``), applied after this.
public enum MetricCombiner {
    /// One metric's value this tick and its target.
    public struct Reading: Sendable, Equatable {
        public var metric: ScalingMetric
        public var target: Double
        /// nil when no sample came this tick.
        public var value: Double?

        public init(metric: ScalingMetric, target: Double, value: Double?) {
            self.metric = metric
            self.target = target
            self.value = value
        }
    }

    /// The count the metrics ask for, the metric that decided it (nil when holding), and why.
    public struct Recommendation: Sendable, Equatable {
        public var desired: Int
        public var deciding: ScalingMetric?
        public var reason: String
    }

    /// What `readings` ask of `current` in-service instances.
    public static func recommend(current: Int, readings: [Reading], tolerance: Double = 0.1) -> Recommendation {
        guard !readings.isEmpty else { return .init(desired: current, deciding: nil, reason: "no metric") }
        var wants: [(metric: ScalingMetric, desired: Int, reason: String)] = []
        var missing: [ScalingMetric] = []
        for reading in readings {
            guard let value = reading.value, value.isFinite, reading.target > 0 else {
                missing.append(reading.metric)
                continue
            }
            let unit = reading.metric.unit
            if reading.metric.isPerInstance {
                if current == 0 {
                    wants.append((reading.metric, value > 0 ? 1 : 0, "\(reading.metric.rawValue) \(value.rounded(toPlaces: 1)) with no instance"))
                } else {
                    let (desired, reason) = ScalingPolicy.target(value: reading.target, tolerance: tolerance)
                        .recommend(current: current, load: value, unit: unit)
                    wants.append((reading.metric, desired, "\(reading.metric.rawValue) \(reason)"))
                }
            } else if value > reading.target {
                let shown = "\(reading.metric.rawValue) \(value.rounded(toPlaces: 1)) \(unit) > SLO \(reading.target.rounded(toPlaces: 1))"
                wants.append((reading.metric, current + 1, shown))
            }
            // Latency at or under its SLO abstains.
        }
        if let up = wants.filter({ $0.desired > current }).max(by: { $0.desired < $1.desired }) {
            return .init(desired: up.desired, deciding: up.metric, reason: up.reason)
        }
        if !missing.isEmpty {
            let names = missing.map(\.rawValue).joined(separator: ", ")
            return .init(desired: current, deciding: nil, reason: "no sample of \(names): holding")
        }
        guard let highest = wants.max(by: { $0.desired < $1.desired }) else {
            return .init(desired: current, deciding: nil, reason: "latency within its SLO")
        }
        if highest.desired < current {
            // Every metric asks for fewer: the one asking for the most decides (the least step in).
            return .init(desired: highest.desired, deciding: highest.metric, reason: highest.reason)
        }
        return .init(desired: current, deciding: nil, reason: wants.map(\.reason).joined(separator: "; "))
    }
}
