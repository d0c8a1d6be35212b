import Foundation
import InstanceProviders

/// The scheduler's decisions, all of them, as one pure function of what a tick observed: the
/// policy's decision (``ScalingDecider``), manual scaling, repairs of broken instances and the
/// back-off after a failed action, in; the decision, the work to start and the sample to record,
/// out. Clocks come in with the ``Observation``, so it is table-tested in milliseconds; the
/// ``Scheduler`` service only gathers observations and carries plans out.
///
/// Like ``ScalingDecider`` it keeps a little memory between ticks (the stabilization window's
/// recommendations, and since when each instance has failed its checks).
public struct ScalingPlanner: Sendable {
    public var decider: ScalingDecider
    public var configuration: Configuration
    /// When each instance was first seen failing its checks (monotonic seconds).
    private(set) var unhealthySince: [String: Double] = [:]
    /// The rate forecast of the predictive policy (fed every tick with a measurement).
    private(set) var forecaster = RateForecaster()

    /// What the planner needs beyond the policy and its rules.
    public struct Configuration: Sendable {
        /// A created instance failing its checks this long is replaced (default 30 s).
        public var replaceUnhealthyAfter: Duration = .seconds(30)
        /// A created instance that has not served this long after its creation is removed (120 s).
        public var startupTimeout: Duration = .seconds(120)
        /// The predictive policy forecasts this far ahead: the time a new instance takes to serve
        /// plus a tick (default 31 s).
        public var leadTime: Duration = .seconds(31)
        /// The load window, for turning a forecast rate into requests per instance (default 10 s).
        public var window: Duration = .seconds(10)

        /// Warm-pool members to keep prepared outside the group (default 0: no pool, every launch
        /// cold).
        public var warmPool = 0
        /// How members are held (default paused).
        public var warmState = WarmState.paused
        /// A scale-in returns its instance to the pool instead of deleting it while the pool is
        /// short of ``warmPool`` (AWS's `ReuseOnScaleIn`; default false).
        public var reuseOnScaleIn = false
        /// Most instances prepared in all, group and pool together (default nil: no cap beyond
        /// the group's maximum plus the pool).
        public var maxPrepared: Int?

        /// The metrics scaled on and their targets (`--metric`, issue 20), combined as the HPA
        /// does (``MetricCombiner``); empty: the policy on requests per instance, the original's.
        public var metrics: [MetricTarget] = []
        /// How close to its target a metric counts as on target (a fraction; default 0.1).
        public var tolerance = 0.1

        /// Unit shown in reasons: `req/VM/10s`.
        public var loadUnit: String { "req/VM/\(window.seconds.rounded(toPlaces: 0))s" }

        public init() {}
    }

    public init(policy: ScalingPolicy, rules: ScalingRules, configuration: Configuration = Configuration()) {
        self.decider = ScalingDecider(policy: policy, rules: rules)
        self.configuration = configuration
    }

    /// The load window's figures at this tick.
    public struct WindowSummary: Sendable, Equatable {
        /// Requests over the window; nil until the window spans two reads.
        public var requests: Double?
        /// Requests per second over the window.
        public var rate: Double?
        public var p50Seconds: Double?
        public var p99Seconds: Double?

        public init(requests: Double?, rate: Double? = nil, p50Seconds: Double? = nil, p99Seconds: Double? = nil) {
            self.requests = requests
            self.rate = rate
            self.p50Seconds = p50Seconds
            self.p99Seconds = p99Seconds
        }
    }

    /// What one tick saw.
    public struct Observation: Sendable {
        /// Monotonic seconds.
        public var now: Double
        /// Wall-clock time, for instances' creation times and the sample.
        public var date: Date
        /// Every instance the provider lists, joined with the balancer's view.
        public var instances: [InstanceStatus]
        /// Instances being removed by a running action: not counted.
        public var removing: Set<String> = []
        /// The load window; nil when the balancer did not answer (no decision then).
        public var window: WindowSummary?
        /// An action is running.
        public var busy = false
        /// Monotonic seconds of the last action that started a cooldown.
        public var lastAction: Double?
        /// A count asked for through the API, not reached yet.
        public var manualTarget: Int?
        /// After a failed action, no new one before this (monotonic seconds).
        public var retryAt = 0.0
        /// The count decided last, kept in the sample while no decision can be made.
        public var lastDesired = 0
        /// Warm-pool members being prepared by running tasks (some not listed yet).
        public var preparing = 0
        /// Instances running tasks work on (being prepared, taken from the pool): never broken.
        public var inFlight: Set<String> = []
        /// Instances being drained into the pool (a subset of ``removing``): members already.
        public var returning: Set<String> = []
        /// After a failed preparation, no new one before this (monotonic seconds).
        public var poolRetryAt = 0.0
        /// This tick's values of the metrics other than requests (which comes from ``window``),
        /// each in its target's unit; a metric absent has no sample this tick.
        public var signals: [ScalingMetric: Double] = [:]
        /// How many of the in-service instances the CPU average counted (nil: all of them); the
        /// others (warming up, read once) count as the HPA counts missing pods.
        public var cpuCounted: Int?

        public init(
            now: Double, date: Date, instances: [InstanceStatus], removing: Set<String> = [], window: WindowSummary?, busy: Bool = false,
            lastAction: Double? = nil, manualTarget: Int? = nil, retryAt: Double = 0, lastDesired: Int = 0, preparing: Int = 0,
            inFlight: Set<String> = [], poolRetryAt: Double = 0, returning: Set<String> = [], signals: [ScalingMetric: Double] = [:],
            cpuCounted: Int? = nil
        ) {
            self.signals = signals
            self.cpuCounted = cpuCounted
            self.returning = returning
            self.preparing = preparing
            self.inFlight = inFlight
            self.poolRetryAt = poolRetryAt
            self.now = now
            self.date = date
            self.instances = instances
            self.removing = removing
            self.window = window
            self.busy = busy
            self.lastAction = lastAction
            self.manualTarget = manualTarget
            self.retryAt = retryAt
            self.lastDesired = lastDesired
        }
    }

    /// What to do about it.
    public struct Plan: Sendable {
        /// The decision of this tick; nil without a measurement.
        public var decision: ScalingDecider.Decision?
        /// The action to start now, if any (at most one runs at a time).
        public var work: Work?
        /// The manual target was reached: forget it.
        public var manualTargetReached = false
        /// Instances in service and pending (not counting those being removed), and the load per
        /// in-service instance, as recorded in ``sample``.
        public var sample: Sample
        /// Warm-pool members to prepare now, in the background (not an action: scaling goes on).
        public var prepare = 0
        /// Broken warm-pool members to delete (crashed, or never held): name and why.
        public var discard: [(name: String, reason: String)] = []
        /// Held warm-pool members after this plan's scale-up took its share.
        public var warm = 0
    }

    /// An action to start; runs in its own child task, one at a time.
    public enum Work: Sendable, Equatable {
        /// Launches `count` instances in parallel (at most ``ScalingRules/maxParallelLaunches``):
        /// the warm-pool members `fromPool` first, cold launches for the rest.
        case scaleUp(count: Int, fromPool: [String] = [], reason: String, startsCooldown: Bool)
        /// Removes ``InstanceStatus/scaleInTarget(_:)`` of `statuses`, or returns it to the warm
        /// pool held as `toPool`.
        case scaleDown(reason: String, statuses: [InstanceStatus], toPool: WarmState? = nil, startsCooldown: Bool)
        /// A created instance that is broken (unhealthy too long, stopped, or never served): a
        /// new one first, then the old one goes.
        case replace(name: String, reason: String)
        /// A created instance that never served within the startup timeout and holds no traffic.
        case removeStuck(name: String, reason: String)

        /// Whether doing it starts the cooldown (the decision's say; repairs never do).
        public var startsCooldown: Bool {
            switch self {
            case .scaleUp(_, _, _, let starts), .scaleDown(_, _, _, let starts): starts
            case .replace, .removeStuck: false
            }
        }
    }

    /// Plans one tick.
    public mutating func plan(_ observation: Observation) -> Plan {
        let now = observation.now
        let live = observation.instances.filter { !observation.removing.contains($0.name) }
        let inService = live.filter { $0.health == .inService }.count
        let pending = live.filter { $0.health == .pending }.count
        let load = observation.window?.requests.map { inService > 0 ? $0 / Double(inService) : $0 }
        let held = live.filter { $0.isHeldWarm && !observation.inFlight.contains($0.name) }.map(\.name).sorted()
        let backingOff = now < observation.retryAt
        trackUnhealthy(observation.instances, now: now)
        var work = backingOff || observation.busy ? nil : findRepair(observation)
        var decision: ScalingDecider.Decision?
        var manualTargetReached = false
        if observation.window != nil {
            let readings = configuration.metrics.isEmpty ? nil : configuration.metrics.map { target in
                MetricCombiner.Reading(metric: target.metric, target: target.target, value: value(of: target, load: load, inService: inService, observation))
            }
            let input = ScalingDecider.Input(
                now: now, inService: inService, pending: pending, load: load, lastAction: observation.lastAction,
                busy: observation.busy || work != nil || backingOff, unit: configuration.loadUnit, readings: readings,
                tolerance: configuration.tolerance)
            if let rate = observation.window?.rate { forecaster.observe(rate, at: now) }
            if let manual = observation.manualTarget {
                let (manualDecision, reached) = Self.manualDecision(manual, input: input, rules: decider.rules)
                decision = manualDecision
                manualTargetReached = reached
            } else {
                decision = decider.decide(input)
                if case .predictive(let up, _) = decider.policy, let reactive = decision {
                    decision = ahead(of: reactive, up: up, input: input)
                }
            }
            if backingOff, var held = decision {
                held.reason += " (backing off \((observation.retryAt - now).rounded(toPlaces: 0)) s after a failed action)"
                decision = held
            }
            if let decision, work == nil, !observation.busy {
                switch decision.action {
                case .scaleUp(let count):
                    let count = min(max(1, count), max(1, decider.rules.maxParallelLaunches))
                    work = .scaleUp(
                        count: count, fromPool: Array(held.prefix(count)), reason: decision.reason, startsCooldown: decision.startsCooldown)
                case .scaleDown:
                    let short = held.count + observation.preparing + observation.returning.count < configuration.warmPool
                    work = .scaleDown(
                        reason: decision.reason, statuses: live, toPool: configuration.reuseOnScaleIn && short ? configuration.warmState : nil,
                        startsCooldown: decision.startsCooldown)
                case .none: break
                }
            }
        }
        let sample = Sample(
            time: observation.date.timeIntervalSince1970, inService: inService, pending: pending, desired: decision?.desired ?? observation.lastDesired,
            requestRate: observation.window?.rate ?? 0, loadPerInstance: load ?? 0,
            p50Milliseconds: observation.window?.p50Seconds.map { $0 * 1000 }, p99Milliseconds: observation.window?.p99Seconds.map { $0 * 1000 },
            signals: observation.signals)
        var plan = Plan(decision: decision, work: work, manualTargetReached: manualTargetReached, sample: sample)
        planPool(&plan, observation: observation, held: held, group: inService + pending)
        return plan
    }

    /// The value `target`'s metric is decided on: requests per instance from the window, the CPU
    /// average with the instances it did not count weighed in by the HPA's rule
    /// (``CPUUtilization/adjusted(average:counted:total:target:)``), the others as read.
    private func value(of target: MetricTarget, load: Double?, inService: Int, _ observation: Observation) -> Double? {
        switch target.metric {
        case .requests:
            return load
        case .cpu:
            return observation.signals[.cpu].map {
                CPUUtilization.adjusted(average: $0, counted: observation.cpuCounted ?? inService, total: inService, target: target.target)
            }
        default:
            return observation.signals[target.metric]
        }
    }

    /// The warm pool's part of a plan: members to prepare so that the pool holds
    /// ``Configuration/warmPool`` once this plan's scale-up took its share (within
    /// ``Configuration/maxPrepared``), and broken members to delete.
    private func planPool(_ plan: inout Plan, observation: Observation, held: [String], group: Int) {
        var taken = 0
        var launching = 0
        var returningNow = 0
        switch plan.work {
        case .scaleUp(let count, let fromPool, _, _):
            taken = fromPool.count
            launching = count - taken
        case .scaleDown(_, _, .some, _):
            returningNow = 1  // this plan returns one: the slot it fills is not to be prepared
        default:
            break
        }
        let free = held.count - taken
        let pool = free + observation.preparing + observation.returning.count + returningNow
        plan.warm = free
        // Everything that exists counts against the cap, whatever its state (listed instances:
        // group, members, those leaving), plus launches this plan starts and preparations not
        // listed yet.
        let unheldMembers = observation.instances.filter { $0.health == .warm && !$0.isHeldWarm }.count
        let unlisted = launching + max(0, observation.preparing - unheldMembers)
        let room = (configuration.maxPrepared ?? .max) - observation.instances.count - unlisted
        if observation.now >= observation.poolRetryAt {
            plan.prepare = max(0, min(configuration.warmPool - pool, room))
        }
        // More held than the pool's size (it was made smaller): the surplus goes, the last by
        // name first. Held members only: one still preparing may be listed held already and
        // counted twice, which must not cost a member.
        let surplus = free - configuration.warmPool
        if surplus > 0 {
            for name in held.suffix(surplus) {
                plan.discard.append((name, "the warm pool holds \(free), more than its size \(configuration.warmPool)"))
            }
            plan.warm -= surplus
        }
        for status in observation.instances
        where status.health == .warm && !status.isHeldWarm && !observation.inFlight.contains(status.name)
            && !observation.removing.contains(status.name) && status.state != .unknown  // its host does not answer
        {
            if status.state == .crashed || status.held == true {
                // Held, but no longer in the state it was held in (crashed, stopped, running).
                plan.discard.append((status.name, "warm-pool member \(status.name) is \(status.state.rawValue)"))
            } else if let created = status.createdAt, observation.date.timeIntervalSince(created) > configuration.startupTimeout.seconds + 5 {
                // Marked but never held, and no task works on it: left by a scheduler that died
                // while preparing it. (One being prepared is in flight from its creation, and
                // younger than the startup timeout before that.)
                plan.discard.append((status.name, "warm-pool member \(status.name) was never held"))
            }
        }
    }

    /// The predictive policy: when the rate forecast for the time a new instance would serve needs
    /// more instances than there are (at `up` requests per instance per window), that many more
    /// now (at most `maxStepUp`), whatever the reactive rule says but never fewer than it; no
    /// cooldown holds it (the rule's own actions keep theirs), one action at a time.
    private func ahead(of reactive: ScalingDecider.Decision, up: Double, input: ScalingDecider.Input) -> ScalingDecider.Decision {
        let window = configuration.window.seconds
        // The measured rate is the window's average: it lags half a window behind.
        guard up > 0, let forecast = forecaster.forecast(ahead: configuration.leadTime.seconds + window / 2) else { return reactive }
        let current = input.inService + input.pending
        let rules = decider.rules
        let needed = min(max(Int(saturating: (forecast * window / up).rounded(.up)), rules.minimum), rules.maximum)
        if case .scaleUp = reactive.action { return reactive }
        guard needed > current else { return reactive }
        let step = min(needed - current, max(1, rules.maxStepUp))
        let reason = "predictive: \(forecast.rounded(toPlaces: 1)) req/s forecast in \(configuration.leadTime.seconds.rounded(toPlaces: 0)) s needs \(needed) → \(current) → \(current + step)"
        guard !input.busy, input.pending == 0 else {
            return .init(action: .none, desired: max(needed, reactive.desired), reason: reason + " (waiting for the running action)", cooldownLeft: 0)
        }
        // Starts no cooldown: the rule's own scale-up must not wait for a forecast's.
        var decision = ScalingDecider.Decision(action: .scaleUp(step), desired: max(needed, reactive.desired), reason: reason, cooldownLeft: 0)
        decision.startsCooldown = false
        return decision
    }

    /// A count asked for through the API: one step per tick towards it, within min and max,
    /// ignoring cooldowns (up to ``ScalingRules/maxParallelLaunches`` instances up, one down);
    /// whether it is reached.
    static func manualDecision(_ manual: Int, input: ScalingDecider.Input, rules: ScalingRules) -> (ScalingDecider.Decision, Bool) {
        let current = input.inService + input.pending
        let target = min(max(manual, rules.minimum), rules.maximum)
        if target == current || (target > current && input.pending > 0) {
            return (.init(action: .none, desired: target, reason: "manual: \(current) → \(target)", cooldownLeft: 0), target == current)
        }
        if input.busy { return (.init(action: .none, desired: target, reason: "manual: waiting for the running action", cooldownLeft: 0), false) }
        let up = target > current
        let step = up ? min(target - current, max(1, rules.maxParallelLaunches)) : -1
        return (
            .init(
                action: up ? .scaleUp(step) : .scaleDown(1), desired: target,
                reason: "manual \(up ? "scale up" : "scale down"): asked for \(target) → \(current) → \(current + step)",
                cooldownLeft: 0), false
        )
    }

    /// Notes since when each instance has failed its checks; forgets those that recovered.
    private mutating func trackUnhealthy(_ instances: [InstanceStatus], now: Double) {
        let unhealthy = Set(instances.filter { $0.health == .unhealthy }.map(\.name))
        unhealthySince = unhealthySince.filter { unhealthy.contains($0.key) }
        for name in unhealthy where unhealthySince[name] == nil { unhealthySince[name] = now }
    }

    /// The first broken instance the autoscaler created, and what to do about it.
    private func findRepair(_ observation: Observation) -> Work? {
        // Not one on a host that does not answer (state unknown): it could be neither checked nor
        // removed; the host's timeout deals with it.
        for status in observation.instances
        where status.origin == .created && !observation.removing.contains(status.name) && status.state != .unknown {
            if status.health == .stopped {
                return .replace(name: status.name, reason: "\(status.name) is \(status.state.rawValue)")
            }
            if let since = unhealthySince[status.name], observation.now - since >= configuration.replaceUnhealthyAfter.seconds {
                return .replace(
                    name: status.name, reason: "\(status.name) failed its health checks for \((observation.now - since).rounded(toPlaces: 0)) s")
            }
            if status.health == .pending, let created = status.createdAt,
                observation.date.timeIntervalSince(created) > configuration.startupTimeout.seconds + 5
            {
                // Said of what is seen, not of its past: an instance back from a lost host may
                // have served before, and is out of service now all the same.
                let age = observation.date.timeIntervalSince(created).rounded(toPlaces: 0)
                return .removeStuck(
                    name: status.name,
                    reason: "\(status.name) is not in service \(age) s after its creation "
                        + "(startup timeout \(configuration.startupTimeout.seconds.rounded(toPlaces: 0)) s)")
            }
        }
        return nil
    }
}
