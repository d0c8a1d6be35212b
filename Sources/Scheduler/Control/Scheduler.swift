import AutoscalerAPI
import InstanceProviders
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The control loop: every ``Configuration/interval`` it reads the balancer's counters, joins them
/// with the provider's instances, keeps the balancer's pool equal to the instances that run,
/// asks the ``ScalingDecider`` and starts at most one action at a time. A `Service`: on graceful
/// shutdown it stops deciding and lets a running action finish (a half-made instance is never
/// left behind on purpose; one left by a crash is cleaned up by the next start).
public final class Scheduler: Service, Sendable {
    let _configuration: Mutex<Configuration>
    /// The settings it runs with (``reload(_:)`` changes the policy's).
    public var configuration: Configuration { _configuration.withLock { $0 } }
    public let provider: any InstanceProvider
    public let balancer: any Balancer
    /// The `prometheus` metric's query; nil when it is not scaled on.
    public let metricQuery: (any MetricQuery)?
    public let history: History
    /// Adding and removing instances with the balancer kept in step (shared with the commands).
    let actions: ScalingActions
    public let metrics: SchedulerMetrics
    let logger: Logger
    let state: Mutex<State>
    /// Live samples and events, for the dashboard's stream.
    public let feed = Feed()

    struct State {
        var planner: ScalingPlanner
        var window: LoadWindow
        /// Monotonic seconds of the last action (restored from history at start).
        var lastAction: Double?
        var busy = false
        var instances: [InstanceStatus] = []
        var lastDecision: ScalingDecider.Decision?
        var lastDecisionTime: Date?
        var desired: Int
        /// A count asked for through the API; applied one step per tick, ignoring cooldowns.
        var manualDesired: Int?
        /// Instances being removed: not re-registered, not counted.
        var removing: Set<String> = []
        var balancerReachable = true
        var providerReachable = true
        var lastSample: Sample?
        var lastPrune = 0.0
        /// After a failed action, no new one before this (monotonic seconds); the wait doubles
        /// with each failure in a row, from 2 s up to 5 min, and resets on a success.
        var retryAt = 0.0
        var backoff = 0.0
        /// Warm-pool members being prepared.
        var preparing = 0
        /// Instances a running task works on (taken from the pool, being discarded).
        var inFlight: Set<String> = []
        /// Instances being drained into the pool.
        var returning: Set<String> = []
        /// Held warm-pool members, as of the last tick.
        var warm = 0
        /// After a failed preparation, none before this; the wait doubles as for actions.
        var poolRetryAt = 0.0
        var poolBackoff = 0.0
        /// The metrics' state between ticks: CPU-time readings and in-flight counts over the
        /// window, and since when each instance is in service.
        var signals: SignalState
        /// Metrics whose last read failed, and why (logged once per failure).
        var unreadable: [ScalingMetric: String] = [:]
    }

    public init(
        configuration: Configuration, provider: any InstanceProvider, balancer: any Balancer, history: History,
        logger: Logger, metricQuery: (any MetricQuery)? = nil
    ) {
        self.metricQuery = metricQuery
        self._configuration = Mutex(configuration)
        self.provider = provider
        self.balancer = balancer
        self.history = history
        self.logger = logger
        actions = ScalingActions(provider: provider, balancer: balancer, logger: logger)
        metrics = SchedulerMetrics()
        state = Mutex(
            State(
                planner: ScalingPlanner(policy: configuration.policy, rules: configuration.rules, configuration: configuration.planner),
                window: LoadWindow(seconds: configuration.window.seconds), desired: configuration.rules.minimum,
                signals: SignalState(window: configuration.window.seconds)))
    }

    static let clock = ContinuousClock()
    static let epoch = clock.now
    /// Monotonic seconds since the process started.
    static var monotonic: Double { (clock.now - epoch).seconds }

    public func run() async throws {
        await start()
        await withDiscardingTaskGroup { group in
            var next = Self.clock.now
            var unreachableTicks = 0
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await tick(group: &group)
                // The balancer or the provider did not answer: ask less often (doubling, at most
                // every 10 s) until it does; every tick again once it answers.
                let reachable = state.withLock { $0.balancerReachable && $0.providerReachable }
                unreachableTicks = reachable ? 0 : unreachableTicks + 1
                let backoff = unreachableTicks == 0 ? 1 : min(Double(1 << min(unreachableTicks, 10)), 10 / max(configuration.interval.seconds, 0.001))
                next = next + .milliseconds(Int64(configuration.interval.seconds * backoff * 1000))
                if next < Self.clock.now { next = Self.clock.now }
                let wake = next
                try? await cancelWhenGracefulShutdown { try await Task.sleep(until: wake, clock: Self.clock) }
            }
            logger.info("scheduler stopping: waiting for a running action to finish")
        }
        logger.info("scheduler stopped")
    }

    /// Resumes after a restart: the cooldown from history, a note of what exists.
    private func start() async {
        let now = Date().timeIntervalSince1970
        if let last = try? history.lastActionTime() {
            let ago = now - last
            state.withLock { $0.lastAction = Self.monotonic - ago }
            logger.info("resuming: last scaling action \(ago.rounded(toPlaces: 0)) s ago")
        }
        let found = (try? await provider.instances()) ?? []
        let names = found.map { "\($0.name) (\($0.origin.rawValue))" }.joined(separator: ", ")
        record(.start, reason: "provider \(provider.summary); found \(found.isEmpty ? "no instances" : names)")
        for instance in found where instance.origin == .created {
            record(
                .adopt, instance: instance.name,
                reason: "made by an earlier run" + (instance.warm.map { ", a warm-pool member (\($0.rawValue))" } ?? ""))
        }
    }

    // MARK: One tick

    func tick(group: inout DiscardingTaskGroup) async {
        let started = Self.clock.now
        let now = Self.monotonic
        let stats: BalancerStats?
        do {
            stats = try await balancer.stats()
            setReachable(balancer: true)
        } catch {
            stats = nil
            setReachable(balancer: false, error: error)
        }
        // What running tasks work on, as of before the listing: a task that finishes meanwhile
        // leaves its instance in a state the listing may not show yet (listed running, no longer
        // in flight), and then it must still be taken for in flight, not for broken.
        let tasks = state.withLock { (removing: $0.removing, inFlight: $0.inFlight, preparing: $0.preparing, returning: $0.returning) }
        let instances: [Instance]
        do {
            instances = try await provider.instances()
            setReachable(provider: true)
        } catch {
            setReachable(provider: false, error: error)
            return
        }
        if let hosts = provider as? MultiHostProvider {
            let timeout = hosts.hostTimeout.seconds
            for (host, event) in hosts.takeEvents() {
                record(.host, reason: HostReachability.describe(event, host: host, timeout: timeout))
                // A host lost: its instances are replaced on the others; one back with instances
                // replaced meanwhile: the extra ones go. Either way the group steps back to the
                // count it had, ignoring cooldowns, as a manual request does.
                switch event {
                case .lost, .back(_, wasLost: true): state.withLock { $0.manualDesired = $0.manualDesired ?? $0.desired }
                default: break
                }
            }
        }
        let backends = Dictionary((stats?.backends ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let statuses = instances.map { InstanceStatus.make($0, backend: backends[$0.name]) }
        if let stats { await keepPoolInStep(instances: instances, backends: backends, stats: stats) }
        let reads = await readSignals()
        if let stats, configuration.metrics.contains(where: { $0.metric == .latency }) {
            noteUnreadable(.latency, stats.latency == nil ? "the balancer at \(balancer.location) gives no latency histogram" : nil)
        }

        let plan = state.withLock { state -> ScalingPlanner.Plan in
            state.instances = statuses
            if let stats {
                state.window.add(time: now, requestsTotal: stats.requestsTotal, latency: stats.latency)
            } else {
                state.window.reset()
            }
            let inService = statuses.filter { $0.health == .inService && !tasks.removing.contains($0.name) }.map(\.name)
            let (signals, cpuCounted) = state.signals.update(
                now: now, inService: inService, backends: stats.map { _ in backends }, window: state.window, cpu: reads.cpu,
                query: reads.query, configuration: configuration)
            let observation = ScalingPlanner.Observation(
                now: now, date: Date(), instances: statuses, removing: tasks.removing, window: stats.map { _ in state.window.summary },
                busy: state.busy,
                lastAction: state.lastAction, manualTarget: state.manualDesired, retryAt: state.retryAt, lastDesired: state.desired,
                preparing: tasks.preparing, inFlight: tasks.inFlight, poolRetryAt: state.poolRetryAt, returning: tasks.returning,
                signals: signals, cpuCounted: cpuCounted)
            let plan = state.planner.plan(observation)
            state.warm = plan.warm
            state.preparing += plan.prepare
            state.inFlight.formUnion(plan.discard.map(\.name))
            if case .scaleUp(_, let fromPool, _, _) = plan.work { state.inFlight.formUnion(fromPool) }
            if plan.manualTargetReached { state.manualDesired = nil }
            if let decision = plan.decision {
                state.desired = decision.desired
                state.lastDecision = decision
                state.lastDecisionTime = observation.date
            }
            if let work = plan.work {
                state.busy = true
                if work.startsCooldown { state.lastAction = now }
            }
            state.lastSample = plan.sample
            return plan
        }
        let (decision, sample, work) = (plan.decision, plan.sample, plan.work)
        if let decision {
            metrics.decided(decision.action)
            // An action's reason is logged once, with its event.
            logger.debug("\(decision.reason)")
        }
        do {
            try history.record(sample)
        } catch {
            logger.warning("cannot write history: \(error)")
        }
        feed.publish(.sample(sample))
        metrics.observe(sample)
        metrics.observe(sample, targets: configuration.metrics)
        pruneHistoryNowAndThen(now: now)
        if let work {
            let trigger = decision?.trigger
            group.addTask { await self.perform(work, trigger: trigger) }
        }
        for _ in 0..<plan.prepare { group.addTask { await self.prepareMember() } }
        for (name, reason) in plan.discard { group.addTask { await self.discardMember(name, reason: reason) } }
        metrics.tickDuration(Self.clock.now - started)
    }

    private func setReachable(balancer reachable: Bool, error: (any Error)? = nil) {
        let changed = state.withLock { state in
            defer { state.balancerReachable = reachable }
            return state.balancerReachable != reachable
        }
        if changed {
            if reachable {
                logger.info("load balancer reachable again at \(balancer.location)")
            } else {
                logger.warning("load balancer unreachable at \(balancer.location): \(error.map { "\($0)" } ?? "?"); holding, retrying every tick")
            }
        }
    }

    private func setReachable(provider reachable: Bool, error: (any Error)? = nil) {
        let changed = state.withLock { state in
            defer { state.providerReachable = reachable }
            return state.providerReachable != reachable
        }
        if changed {
            if reachable {
                logger.info("provider reachable again: \(provider.summary)")
            } else {
                logger.warning("provider unreachable (\(provider.summary)): \(error.map { "\($0)" } ?? "?"); holding, retrying every tick")
            }
        }
    }

    private func pruneHistoryNowAndThen(now: Double) {
        let due = state.withLock { state in
            guard now - state.lastPrune >= 600 else { return false }
            state.lastPrune = now
            return true
        }
        if due {
            do {
                let removed = try history.prune()
                if removed > 0 { logger.info("history: removed \(removed) rows older than the retention") }
            } catch {
                logger.warning("history prune failed: \(error)")
            }
        }
    }

    // MARK: Events

    @discardableResult
    func record(
        _ kind: ScalingEvent.Kind, instance: String? = nil, reason: String, startsCooldown: Bool = false, trigger: MetricCombiner.Reading? = nil
    ) -> ScalingEvent {
        var event = ScalingEvent(
            time: Date().timeIntervalSince1970, kind: kind, instance: instance, reason: reason, startsCooldown: startsCooldown, trigger: trigger)
        do {
            event = try history.record(event)
        } catch {
            logger.warning("cannot write history: \(error)")
        }
        feed.publish(.event(event))
        let instanceText = instance.map { " \($0)" } ?? ""
        logger.info("event \(kind.rawValue)\(instanceText): \(reason)")
        return event
    }
}
