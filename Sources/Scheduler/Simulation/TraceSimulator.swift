import AutoscalerAPI
import Foundation
import InstanceProviders

/// Replays a request-rate trace through the scheduler's own ``ScalingPlanner`` (the same policy,
/// rules and decisions as the live loop) on a simulated clock, as fast as it computes.
///
/// The model: every instance serves ``Configuration/capacity`` requests per second, so the
/// demand at a tick is `ceil(rate / capacity)` instances; a scale-up's instances (launched in
/// parallel) serve ``Configuration/startup`` seconds after the decision and, as in the live loop,
/// no other action starts meanwhile; a scale-in removes its instance at once (an instant drain). The group starts
/// at its minimum, in service. With a warm pool (``Configuration/warmPool``) members take
/// ``Configuration/startup`` to prepare and ``Configuration/warmStartup`` to serve once taken, as
/// the live loop plans them; their held time is counted apart from the group's.
public struct TraceSimulator: Sendable {
    /// The most ticks one run simulates (at 1 s, three years); `scheduler simulate` refuses a
    /// longer trace, and a run stops there.
    public static let maximumTicks = 100_000_000

    /// How many ticks of `interval` the trace spans.
    public static func ticks(of trace: Trace, interval: Duration) -> Double {
        ((trace.end - trace.points[0].seconds) / interval.seconds - 1e-9).rounded(.up)
    }

    /// Settings; the defaults are the live scheduler's.
    public struct Configuration: Sendable {
        public var policy = ScalingPolicy.threshold(up: 20, down: 5)
        public var rules = ScalingRules()
        /// Time between ticks (default 1 s).
        public var interval: Duration = .seconds(1)
        /// The load window (default 10 s).
        public var window: Duration = .seconds(10)
        /// Requests per second one instance serves (default 10).
        public var capacity = 10.0
        /// Seconds from a scale-up decision until the new instance serves (default 30).
        public var startup = 30.0
        /// Multiplies every rate of the trace (default 1).
        public var rateScale = 1.0
        /// Warm-pool members to keep (default 0: none), and whether a scale-in returns to the pool.
        public var warmPool = 0
        public var reuseOnScaleIn = false
        public var maxPrepared: Int?
        /// Seconds from taking a held member until it serves (default 1: a paused VM resumes and
        /// is checked in 0.05–0.6 s here).
        public var warmStartup = 1.0
        /// The metrics scaled on (default empty: the policy on requests). The trace gives a rate
        /// only, so these are the metrics the model derives from it: ``ScalingMetric/requests``,
        /// and ``ScalingMetric/cpu`` as the model's utilisation (an instance at `capacity` is
        /// 100 % busy). ``supports(_:)`` says which.
        public var metrics: [MetricTarget] = []
        /// How close to its target a metric counts as on target (default 0.1).
        public var tolerance = 0.1

        public init() {}
    }

    /// One tick of the replay.
    public struct Row: Sendable, Equatable {
        public var seconds: Double
        public var rate: Double
        public var demand: Int
        public var inService: Int
        public var pending: Int
        public var desired: Int
    }

    /// What a replay cost and how well it kept up (`--json` of `scheduler simulate`).
    public struct Result: Sendable, Equatable, Codable {
        public var policy: String
        /// Simulated time.
        public var seconds: Double
        /// Instances in existence (serving or starting) times seconds: what they cost.
        public var instanceSeconds: Double
        /// Scaling actions taken.
        public var actions: Int
        /// Seconds in which fewer instances served than the demand.
        public var underProvisionedSeconds: Double
        public var metrics: ElasticityMetrics
        /// Warm-pool member times seconds, preparing or held (not in `--json`, whose keys are fixed).
        public var warmSeconds = 0.0

        enum CodingKeys: String, CodingKey {
            case policy, seconds, instanceSeconds, actions, underProvisionedSeconds, metrics
        }
    }

    public let configuration: Configuration

    /// Whether the replay can give `metric` from a trace of rates: requests and cpu; latency,
    /// requests in flight and a Prometheus query are not in a trace of rates.
    public static func supports(_ metric: ScalingMetric) -> Bool {
        metric == .requests || metric == .cpu
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    private struct SimulatedInstance {
        let name: String
        let createdAt: Double
        /// When it serves, or for a warm-pool member when it is held.
        var readyAt: Double
        /// A warm-pool member.
        var warm = false
    }

    /// Replays `trace`; `timeline` is called with each tick's row.
    public func run(_ trace: Trace, timeline: (Row) -> Void = { _ in }) -> Result {
        let step = configuration.interval.seconds
        let rules = configuration.rules
        var plannerConfiguration = ScalingPlanner.Configuration()
        plannerConfiguration.startupTimeout = .seconds(max(120, configuration.startup + 60))
        plannerConfiguration.leadTime = .milliseconds(Int64((configuration.startup + step) * 1000))
        plannerConfiguration.window = configuration.window
        plannerConfiguration.warmPool = configuration.warmPool
        plannerConfiguration.reuseOnScaleIn = configuration.reuseOnScaleIn
        plannerConfiguration.maxPrepared = configuration.maxPrepared
        plannerConfiguration.metrics = configuration.metrics.filter { Self.supports($0.metric) }
        plannerConfiguration.tolerance = configuration.tolerance
        var planner = ScalingPlanner(policy: configuration.policy, rules: rules, configuration: plannerConfiguration)
        var window = LoadWindow(seconds: configuration.window.seconds)
        let epoch = Date(timeIntervalSince1970: 0)
        var instances = (0..<rules.minimum).map { SimulatedInstance(name: "web_vm\($0 + 1)", createdAt: -1, readyAt: -1) }
        var nextNumber = rules.minimum + 1
        var requests = 0.0
        var busyUntil = -Double.infinity
        var lastAction: Double?
        var lastDesired = rules.minimum
        var actions = 0
        var warmSeconds = 0.0
        // From the trace's first row to its end (a trace may start at any time).
        let start = trace.points[0].seconds
        let ticks = max(1, Int(min(Double(Self.maximumTicks), Self.ticks(of: trace, interval: configuration.interval))))
        var tally = QualityTally(capacity: configuration.capacity, step: step, expectedSamples: ticks)
        for tick in 0..<ticks {
            let now = start + Double(tick) * step
            let rate = trace.rate(at: now) * configuration.rateScale
            // The counter at `now` holds the requests before it, as the balancer's does: this
            // tick's own arrive after the decision (counting them first looked a tick ahead).
            // Bounded as a real counter is by Int; the window sees a wrap as a counter reset.
            window.add(time: now, requestsTotal: Int(requests.truncatingRemainder(dividingBy: 1e18)))
            defer { requests += rate * step }
            let statuses = instances.map {
                $0.warm
                    ? InstanceStatus(
                        name: $0.name, endpoint: nil, state: now >= $0.readyAt ? .paused : .running, health: .warm, origin: .created,
                        createdAt: epoch.addingTimeInterval($0.createdAt), requestsTotal: 0, inFlight: 0, warm: .paused, held: now >= $0.readyAt)
                    : InstanceStatus(
                        name: $0.name, endpoint: nil, state: .running, health: now >= $0.readyAt ? .inService : .pending, origin: .created,
                        createdAt: epoch.addingTimeInterval($0.createdAt), requestsTotal: 0, inFlight: 0)
            }
            // The model's CPU: the window's rate over the in-service instances, against what one serves.
            let serving = statuses.filter { $0.health == .inService }.count
            let cpu = window.rate.flatMap { rate in serving > 0 ? min(100, 100 * rate / Double(serving) / configuration.capacity) : nil }
            let observation = ScalingPlanner.Observation(
                now: now, date: epoch.addingTimeInterval(now), instances: statuses,
                window: window.summary, busy: now < busyUntil, lastAction: lastAction,
                lastDesired: lastDesired, preparing: instances.filter { $0.warm && now < $0.readyAt }.count,
                inFlight: Set(instances.filter { $0.warm && now < $0.readyAt }.map(\.name)), signals: cpu.map { [.cpu: $0] } ?? [:])
            let plan = planner.plan(observation)
            if let decision = plan.decision { lastDesired = decision.desired }
            switch plan.work {
            case .scaleUp(let count, let fromPool, _, let startsCooldown):
                // Launched in parallel: members serve after the warm startup, the rest after one
                // cold startup.
                for index in instances.indices where fromPool.contains(instances[index].name) {
                    instances[index].warm = false
                    instances[index].readyAt = now + configuration.warmStartup
                }
                for _ in 0..<(count - fromPool.count) {
                    instances.append(SimulatedInstance(name: "web_vm\(nextNumber)", createdAt: now, readyAt: now + configuration.startup))
                    nextNumber += 1
                }
                busyUntil = now + (count > fromPool.count ? configuration.startup : configuration.warmStartup)
                actions += 1
                if startsCooldown { lastAction = now }
            case .scaleDown(_, let candidates, let toPool, let startsCooldown):
                if let target = InstanceStatus.scaleInTarget(candidates) {
                    if toPool != nil, let index = instances.firstIndex(where: { $0.name == target.name }) {
                        instances[index].warm = true
                        instances[index].readyAt = now
                    } else {
                        instances.removeAll { $0.name == target.name }
                    }
                    actions += 1
                    if startsCooldown { lastAction = now }
                }
            case .replace, .removeStuck, nil:
                break
            }
            for _ in 0..<plan.prepare {
                instances.append(
                    SimulatedInstance(name: "web_vm\(nextNumber)", createdAt: now, readyAt: now + configuration.startup, warm: true))
                nextNumber += 1
            }
            instances.removeAll { member in plan.discard.contains { $0.name == member.name } }
            let members = instances.filter(\.warm).count
            // Members cost from their creation: preparing ones too.
            warmSeconds += Double(members) * step
            let inService = instances.filter { !$0.warm && now >= $0.readyAt }.count
            let pending = instances.count - members - inService
            tally.add(rate: rate, inService: inService, pending: pending, span: step)
            timeline(
                Row(
                    seconds: now, rate: rate, demand: tally.demand(for: rate), inService: inService, pending: pending,
                    desired: lastDesired))
        }
        return Result(
            policy: configuration.metrics.isEmpty ? configuration.policy.name : configuration.metrics.map { "\($0.metric.rawValue) \($0.target.rounded(toPlaces: 2))" }.joined(separator: " + "),
            seconds: tally.seconds, instanceSeconds: tally.instanceSeconds, actions: actions,
            underProvisionedSeconds: tally.underProvisionedSeconds,
            metrics: tally.metrics(maximum: rules.maximum)!, warmSeconds: warmSeconds)  // at least one tick was tallied
    }
}
