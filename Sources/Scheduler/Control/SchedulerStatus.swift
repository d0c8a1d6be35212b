import Foundation

/// `GET /api/v1/status`: where the group stands and why.
public struct SchedulerStatus: Codable, Sendable, Equatable {
    public var provider: String
    public var policy: String
    public var inService: Int
    public var pending: Int
    public var desired: Int
    public var minimum: Int
    public var maximum: Int
    /// The load window's length in seconds.
    public var windowSeconds: Double
    /// Requests per in-service instance over the window, the policy's input.
    public var loadPerInstance: Double
    public var requestRate: Double
    public var lastDecision: String?
    public var lastDecisionAt: Date?
    public var cooldownLeftSeconds: Double
    /// An action (scale up, scale down, replace) is running.
    public var busy: Bool
    public var balancerReachable: Bool
    public var providerReachable: Bool
    /// A count asked for through the API and not reached yet.
    public var manualDesired: Int?
    /// The thresholds for the dashboard: scale up above, scale down below (threshold policy), or
    /// the target (target tracking).
    public var scaleUpThreshold: Double?
    public var scaleDownThreshold: Double?
    public var target: Double?
    /// Requests per second an instance serves, when configured: `GET /api/v1/quality` answers.
    public var capacity: Double?
    /// Warm-pool members held ready, and being prepared; the pool's size (`--warm-pool`).
    public var warm = 0
    public var warmPreparing = 0
    public var warmPool = 0
    /// The metrics scaled on (`--metric`), each with its target and its value at the last tick
    /// (nil: no sample, the scheduler holds); empty when the policy scales on requests.
    public var metrics: [MetricStatus] = []
}

/// One scaling metric in ``SchedulerStatus``.
public struct MetricStatus: Codable, Sendable, Equatable {
    public var metric: ScalingMetric
    /// Its unit: `% CPU`, `ms`, …
    public var unit: String
    public var target: Double
    public var value: Double?
    /// Why it has no value, when its read failed (the error).
    public var unreadable: String?
}

/// `POST /api/v1/scale`: `{"desired": n}` or `{"delta": ±1}`.
public struct ScaleRequest: Codable, Sendable {
    public var desired: Int?
    public var delta: Int?

    public init(desired: Int? = nil, delta: Int? = nil) {
        self.desired = desired
        self.delta = delta
    }
}

extension Scheduler {
    public var status: SchedulerStatus {
        state.withLock { state in
            var status = SchedulerStatus(
                provider: provider.summary, policy: configuration.policy.name, inService: state.lastSample?.inService ?? 0,
                pending: state.lastSample?.pending ?? 0, desired: state.desired, minimum: configuration.rules.minimum,
                maximum: configuration.rules.maximum, windowSeconds: configuration.window.seconds, loadPerInstance: state.lastSample?.loadPerInstance ?? 0,
                requestRate: state.lastSample?.requestRate ?? 0, lastDecision: state.lastDecision?.reason,
                lastDecisionAt: state.lastDecisionTime, cooldownLeftSeconds: state.lastDecision?.cooldownLeft ?? 0, busy: state.busy,
                balancerReachable: state.balancerReachable, providerReachable: state.providerReachable, manualDesired: state.manualDesired)
            switch configuration.policy {
            case .threshold(let up, let down), .predictive(let up, let down):
                status.scaleUpThreshold = up
                status.scaleDownThreshold = down
            case .target(let value, _):
                status.target = value
            }
            status.capacity = configuration.capacity
            status.warm = state.warm
            status.warmPreparing = state.preparing
            status.warmPool = configuration.warmPool
            status.metrics = configuration.metrics.map { target in
                MetricStatus(
                    metric: target.metric, unit: target.metric.unit, target: target.target, value: state.lastSample?.value(of: target.metric),
                    unreadable: state.unreadable[target.metric])
            }
            if !configuration.metrics.isEmpty {
                status.policy = "metrics: " + configuration.metrics.map(\.description).joined(separator: ", ")
                status.target = nil
            }
            return status
        }
    }

    /// The instances as of the last tick.
    public var instances: [InstanceStatus] {
        state.withLock { $0.instances }
    }

    /// A manual request: the group moves one instance per tick towards it, ignoring cooldowns,
    /// within min and max. Returns the count it will move to.
    public func requestScale(_ request: ScaleRequest) throws(ScaleRequestError) -> Int {
        let rules = configuration.rules
        let target: Int = try state.withLock { state throws(ScaleRequestError) in
            // A delta counts from a pending manual request, else from the instances there are.
            let current = state.manualDesired ?? ((state.lastSample?.inService ?? 0) + (state.lastSample?.pending ?? 0))
            let wanted: Int
            switch (request.desired, request.delta) {
            case (let desired?, nil): wanted = desired
            case (nil, let delta?):
                // {"delta": 9223372036854775807} trapped here (found writing the api-bodies fuzz target).
                let (sum, overflow) = current.addingReportingOverflow(delta)
                guard !overflow else { throw ScaleRequestError(message: "delta \(delta) is outside min \(rules.minimum) … max \(rules.maximum)") }
                wanted = sum
            default: throw ScaleRequestError(message: #"give exactly one of {"desired": n} and {"delta": ±n}"#)
            }
            guard (rules.minimum...rules.maximum).contains(wanted) else {
                throw ScaleRequestError(message: "\(wanted) is outside min \(rules.minimum) … max \(rules.maximum)")
            }
            state.manualDesired = wanted
            return wanted
        }
        record(.manual, reason: "asked for \(target) instance\(target == 1 ? "" : "s") through the API")
        return target
    }
}

/// A manual scale request that cannot be followed, with the reason.
public struct ScaleRequestError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
