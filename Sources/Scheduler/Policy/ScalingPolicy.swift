/// What the load says the instance count should be, before limits, cooldowns and stabilization.
public enum ScalingPolicy: Sendable, Equatable {
    /// The original's rule: above `up` requests per instance per window add one, below `down`
    /// remove one.
    case threshold(up: Double, down: Double)
    /// Target tracking, as the Kubernetes HPA: desired = ceil(current × load / target), unless
    /// load / target is within `tolerance` of 1.
    case target(value: Double, tolerance: Double)
    /// The threshold rule, plus scaling out ahead of a forecast: the planner adds instances when
    /// the rate it forecasts for when a new one would serve needs more than there are, above `up`
    /// requests per instance per window; scale-in only by the rule (never on a forecast, as AWS's
    /// predictive scaling).
    case predictive(up: Double, down: Double)

    public var name: String {
        switch self {
        case .threshold: "threshold"
        case .target: "target"
        case .predictive: "predictive"
        }
    }

    /// The value of requests per instance per window it compares with when moving up (the
    /// scale-up threshold or the target) or down.
    public func target(movingUp: Bool) -> Double {
        switch self {
        case .threshold(let up, let down), .predictive(let up, let down): movingUp ? up : down
        case .target(let value, _): value
        }
    }

    /// The recommended count for `current` in-service instances carrying `load` requests each per
    /// window, and why, e.g. `31.2 req/VM/10s > 20`.
    public func recommend(current: Int, load: Double, unit: String) -> (desired: Int, reason: String) {
        let shown = load.rounded(toPlaces: 1)
        switch self {
        case .threshold(let up, let down), .predictive(let up, let down):
            if load > up { return (current + 1, "\(shown) \(unit) > \(up.rounded(toPlaces: 1))") }
            if load < down { return (current - 1, "\(shown) \(unit) < \(down.rounded(toPlaces: 1))") }
            return (current, "\(shown) \(unit) within \(down.rounded(toPlaces: 1))–\(up.rounded(toPlaces: 1))")
        case .target(let value, let tolerance):
            guard value > 0, current > 0 else { return (current, "no target") }
            let ratio = load / value
            if abs(ratio - 1) <= tolerance {
                return (current, "\(shown) \(unit) within \(Int(saturating: (tolerance * 100).rounded()))% of target \(value.rounded(toPlaces: 1))")
            }
            let desired = Int(saturating: (Double(current) * ratio).rounded(.up))
            let comparison = ratio > 1 ? ">" : "<"
            return (desired, "\(shown) \(unit) \(comparison) target \(value.rounded(toPlaces: 1))")
        }
    }
}

extension Double {
    /// Rounded for messages: 31.25 → "31.3", 20.0 → "20".
    public func rounded(toPlaces places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let value = (self * scale).rounded() / scale
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
