import AutoscalerAPI

/// Turns the current load into a decision: the policy's recommendation within ``ScalingRules``.
///
/// Pure apart from the recommendation history it keeps for the stabilization window: the same
/// inputs (and history) give the same decision, so it is table-tested without clocks or servers.
public struct ScalingDecider: Sendable {
    public var policy: ScalingPolicy
    public var rules: ScalingRules
    /// Recent raw recommendations (seconds since an arbitrary origin, count) for stabilization.
    private var recommendations: [(time: Double, desired: Int)] = []

    public init(policy: ScalingPolicy, rules: ScalingRules) {
        self.policy = policy
        self.rules = rules
    }

    /// What the control loop knows at one tick.
    public struct Input: Sendable {
        /// Seconds on a monotonic clock.
        public var now: Double
        /// Healthy instances taking traffic.
        public var inService: Int
        /// Instances made but not serving yet (warming up), or leaving.
        public var pending: Int
        /// Requests per in-service instance over the window; nil until there is a measurement.
        public var load: Double?
        /// Seconds (same clock) of the last scaling action, either way; nil when none.
        public var lastAction: Double?
        /// An action is running: never start a second one on the same group.
        public var busy: Bool
        /// Unit shown in reasons, e.g. `req/VM/10s`.
        public var unit: String
        /// The metrics' readings when the scheduler scales on ``ScalingMetric``s (`--metric`):
        /// they replace the policy's recommendation on `load` with ``MetricCombiner``'s. nil:
        /// the policy on requests per instance.
        public var readings: [MetricCombiner.Reading]?
        /// How close to its target a metric counts as on target (a fraction; default 0.1).
        public var tolerance = 0.1

        public init(
            now: Double, inService: Int, pending: Int, load: Double?, lastAction: Double?, busy: Bool, unit: String = "req/VM/10s",
            readings: [MetricCombiner.Reading]? = nil, tolerance: Double = 0.1
        ) {
            self.readings = readings
            self.tolerance = tolerance
            self.now = now
            self.inService = inService
            self.pending = pending
            self.load = load
            self.lastAction = lastAction
            self.busy = busy
            self.unit = unit
        }
    }

    public enum Action: Sendable, Equatable {
        case none
        case scaleUp(Int)
        case scaleDown(Int)
    }

    public struct Decision: Sendable, Equatable {
        public var action: Action
        /// The count the group should have.
        public var desired: Int
        /// Why, for logs and the API: `scale up: 31.2 req/VM/10s > 20 → 2 → 3`.
        public var reason: String
        /// Seconds of cooldown left before `action` may happen; 0 when none holds it back.
        public var cooldownLeft: Double
        /// Whether the action starts a cooldown: policy actions do; bringing the group within
        /// min and max does not (the initial instances must not delay the first real scale-up).
        public var startsCooldown = true
        /// The metric that asked for the action, its value and target (for the event); nil for
        /// a hold, bounds and manual steps.
        public var trigger: MetricCombiner.Reading?
    }

    public mutating func decide(_ input: Input) -> Decision {
        let current = input.inService + input.pending
        let rules = rules
        // Bounds come first and ignore cooldowns: an empty or oversized group is fixed at once.
        if current < rules.minimum {
            let desired = min(rules.minimum, current + max(1, rules.maxStepUp))
            return bounds(
                input.busy ? .none : .scaleUp(desired - current), desired: rules.minimum,
                reason: "\(input.busy ? "wait" : "scale up"): \(current) < min \(rules.minimum) → \(current) → \(desired)")
        }
        if input.inService > rules.maximum {
            let desired = max(rules.maximum, input.inService - max(1, rules.maxStepDown))
            return bounds(
                input.busy ? .none : .scaleDown(input.inService - desired), desired: rules.maximum,
                reason: "\(input.busy ? "wait" : "scale down"): \(input.inService) > max \(rules.maximum) → \(input.inService) → \(desired)")
        }
        let raw: Int
        let why: String
        let trigger: MetricCombiner.Reading?
        if let readings = input.readings {
            // From zero in service (min 0) a metric may ask for the first one; not while one boots.
            guard input.inService > 0 || input.pending == 0 else {
                return decision(.none, desired: current, reason: "hold: \(input.pending) warming up, none in service")
            }
            let recommendation = MetricCombiner.recommend(current: input.inService, readings: readings, tolerance: input.tolerance)
            (raw, why) = (recommendation.desired, recommendation.reason)
            trigger = recommendation.deciding.flatMap { metric in readings.first { $0.metric == metric } }
        } else {
            guard let load = input.load, input.inService > 0 else {
                return decision(.none, desired: current, reason: "hold: no load measurement yet")
            }
            (raw, why) = policy.recommend(current: input.inService, load: load, unit: input.unit)
            trigger = MetricCombiner.Reading(metric: .requests, target: policy.target(movingUp: raw > input.inService), value: load)
        }
        let window = rules.scaleDownStabilization.seconds
        recommendations.removeAll { window <= 0 || input.now - $0.time > window }
        recommendations.append((input.now, raw))
        // Scale-down follows the highest recommendation of the window (HPA): no flapping. An
        // older, higher one only holds a scale-down back; it never causes a scale-up.
        let stabilized = raw < input.inService ? min(input.inService, recommendations.map(\.desired).max() ?? raw) : raw
        var desired = min(max(stabilized, rules.minimum), rules.maximum)
        desired = min(desired, input.inService + rules.maxStepUp)
        desired = max(desired, input.inService - rules.maxStepDown)

        let sinceLast = input.lastAction.map { input.now - $0 }
        if desired > input.inService {
            if input.pending > 0 || input.busy {
                return decision(.none, desired: desired, reason: "wait: \(why), \(input.pending) warming up")
            }
            let left = max(0, rules.scaleUpCooldown.seconds - (sinceLast ?? .infinity))
            if left > 0 {
                return decision(.none, desired: desired, reason: "cooldown: \(why), \(left.rounded(toPlaces: 0)) s left", cooldownLeft: left)
            }
            var result = decision(.scaleUp(desired - input.inService), desired: desired, reason: "scale up: \(why) → \(input.inService) → \(desired)")
            result.trigger = trigger
            return result
        }
        if desired < input.inService {
            if input.pending > 0 || input.busy {
                return decision(.none, desired: desired, reason: "wait: \(why), an action is running")
            }
            let left = max(0, rules.scaleDownCooldown.seconds - (sinceLast ?? .infinity))
            if left > 0 {
                return decision(.none, desired: desired, reason: "cooldown: \(why), \(left.rounded(toPlaces: 0)) s left", cooldownLeft: left)
            }
            var result = decision(.scaleDown(input.inService - desired), desired: desired, reason: "scale down: \(why) → \(input.inService) → \(desired)")
            result.trigger = trigger
            return result
        }
        if raw < input.inService && stabilized >= input.inService {
            return decision(.none, desired: desired, reason: "hold: \(why), stabilizing (a higher recommendation within \(window.rounded(toPlaces: 0)) s)")
        }
        if raw != desired {
            return decision(.none, desired: desired, reason: "hold: \(why), at the \(raw > desired ? "maximum" : "minimum") \(desired)")
        }
        return decision(.none, desired: desired, reason: "hold: \(why)")
    }

    private func bounds(_ action: Action, desired: Int, reason: String) -> Decision {
        var result = decision(action, desired: desired, reason: reason)
        result.startsCooldown = false
        return result
    }

    private func decision(_ action: Action, desired: Int, reason: String, cooldownLeft: Double = 0) -> Decision {
        Decision(action: action, desired: desired, reason: reason, cooldownLeft: cooldownLeft)
    }
}
