import AutoscalerAPI
import InstanceProviders

extension Scheduler {
    /// How the control loop runs.
    ///
    /// Defaults reproduce the original's rule, evaluated every second over a sliding window:
    /// requests per in-service instance over the last 10 s above 20 → add one, below 5 → remove one,
    /// 30 s after any action before the next, between 2 and 8 instances. The balancer's admin API
    /// at `http://127.0.0.1:8081`, the scheduler's API on `127.0.0.1:8090`; a new instance must
    /// serve within 120 s; drains get 30 s; an instance unhealthy for 30 s is replaced; history
    /// is kept 7 days.
    public struct Configuration: Sendable {
        public var interval: Duration = .seconds(1)
        public var window: Duration = .seconds(10)
        public var policy = ScalingPolicy.threshold(up: 20, down: 5)
        public var rules = ScalingRules()
        public var balancerURL = "http://127.0.0.1:8081"
        /// Token for the balancer's mutating calls.
        public var balancerToken: String?
        public var apiHost = "127.0.0.1"
        public var apiPort = 8090
        /// Token for `POST /api/v1/scale`; required for a non-loopback API address.
        public var apiToken: String?
        public var startupTimeout: Duration = .seconds(120)
        public var drainTimeout: Duration = .seconds(30)
        public var replaceUnhealthyAfter: Duration = .seconds(30)
        /// The SQLite history file; nil keeps history in memory only.
        public var historyPath: String?
        public var historyRetention: Duration = .seconds(7 * 24 * 3600)
        /// Requests per second one instance serves, for the demand in `GET /api/v1/quality`;
        /// nil: not known, no quality report.
        public var capacity: Double?
        /// How far ahead the predictive policy forecasts: a new instance's time to serve plus a
        /// tick (default 31 s).
        public var leadTime: Duration = .seconds(31)
        /// Warm-pool members kept prepared outside the balancer (default 0: none).
        public var warmPool = 0
        /// How they are held (default paused).
        public var warmState = WarmState.paused
        /// Scale-in returns instances to the pool while it is short (default false).
        public var reuseOnScaleIn = false
        /// Most instances prepared, group and pool together (default nil: no cap).
        public var maxPrepared: Int?
        /// The metrics scaled on, with their targets (`--metric`; default empty: the policy on
        /// requests per instance, as the original).
        public var metrics: [MetricTarget] = []
        /// How close to its target a metric counts as on target, a fraction (default 0.1).
        public var tolerance = 0.1
        /// The latency metric's quantile (default 0.99: p99).
        public var latencyQuantile = 0.99
        /// An instance in service for less than this is left out of the CPU average (default
        /// 15 s): a VM that just booted is still busy with its own start (HPA's initialization
        /// period).
        public var cpuWarmup: Duration = .seconds(15)
        /// The `prometheus` metric's server and PromQL query (the scheduler is given the query
        /// itself as a `MetricQuery`; these say what it is, for reloads and the status).
        public var prometheusURL: String?
        public var prometheusQuery: String?

        public init() {}

        /// The planner's part of it.
        var planner: ScalingPlanner.Configuration {
            var planner = ScalingPlanner.Configuration()
            planner.replaceUnhealthyAfter = replaceUnhealthyAfter
            planner.startupTimeout = startupTimeout
            planner.leadTime = leadTime
            planner.window = window
            planner.warmPool = warmPool
            planner.warmState = warmState
            planner.reuseOnScaleIn = reuseOnScaleIn
            planner.maxPrepared = maxPrepared
            planner.metrics = metrics
            planner.tolerance = tolerance
            return planner
        }
    }
}
