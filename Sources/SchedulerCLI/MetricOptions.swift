import ArgumentParser
import Scheduler

extension ScalingMetric: ExpressibleByArgument {}

/// The metrics to scale on (issue 20), shared by `scheduler serve` and `scheduler simulate`:
/// `--metric` (repeatable), each with its `--target` in the same order, combined as the HPA does.
public struct MetricOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(
        name: .customLong("metric"),
        help: """
            Scale on this metric, by target tracking against its --target (repeatable: each gives a count, the largest \
            wins, a scale-in needs all to agree): requests (per instance per window), cpu (percent of the in-service \
            instances' vCPUs over the window), latency (the balancer's --quantile in ms, an SLO: it only scales out), \
            inflight (requests in flight per instance), prometheus (--prometheus-query per instance). Default: the \
            policy on requests.
            """)
    var metrics: [ScalingMetric] = []
    @Option(help: "The latency metric's quantile, 0 < q < 1 (default 0.99).") var quantile: Double?
    @Option(help: "Seconds an instance must be in service before its CPU counts (default 15).") var cpuWarmup: Double?
    @Option(help: "Prometheus server for --metric prometheus, e.g. http://127.0.0.1:9090.") var prometheusUrl: String?
    @Option(help: "PromQL query for --metric prometheus; it must give one number (e.g. sum(rate(lb_requests_total[30s]))).")
    var prometheusQuery: String?

    /// The same keys in a `--config` file; `metrics` as `[{"metric": "cpu", "target": 60}]`.
    public struct File: Decodable {
        public init() {}

        struct Entry: Decodable {
            var metric: ScalingMetric
            var target: Double?
        }

        var metrics: [Entry]?
        var quantile, cpuWarmup: Double?
        var prometheusUrl, prometheusQuery: String?
    }

    /// Targets used when none is given: requests per instance per window as the target policy's
    /// default, and 60 % CPU. Latency, in-flight and Prometheus targets depend on the service:
    /// they must be given.
    static let defaultTargets: [ScalingMetric: Double] = [.requests: 12.5, .cpu: 60]

    /// What the merge gives: the metrics and their targets, and the rest of their settings.
    public struct Settings: Sendable, Equatable {
        public var metrics: [MetricTarget] = []
        public var quantile = 0.99
        public var cpuWarmup: Duration = .seconds(15)
        /// Both set exactly when `prometheus` is among the metrics.
        public var prometheusURL: String?
        public var prometheusQuery: String?
    }

    /// Flags over `file` over the defaults. `targets` are `--target`'s values (paired with the
    /// metrics in order), `policy` the `--policy` given, if any; what does not fit is a usage
    /// error naming the option.
    public func settings(targets: [Double], policy: PolicyOptions.PolicyKind?, file: File = File()) throws -> Settings {
        var result = Settings()
        result.metrics = try Self.targets(
            metrics.isEmpty ? (file.metrics ?? []).map { ($0.metric, $0.target) } : try Self.pair(metrics, targets), policy: policy)
        let quantile = quantile ?? file.quantile ?? result.quantile
        guard quantile > 0, quantile < 1 else { throw ValidationError("--quantile must be within 0 … 1 (exclusive), e.g. 0.99") }
        result.quantile = quantile
        result.cpuWarmup = try PolicyOptions.seconds(cpuWarmup ?? file.cpuWarmup, "cpu-warmup", allowZero: true) ?? result.cpuWarmup
        result.prometheusURL = prometheusUrl ?? file.prometheusUrl
        result.prometheusQuery = prometheusQuery ?? file.prometheusQuery
        let wantsPrometheus = result.metrics.contains { $0.metric == .prometheus }
        if wantsPrometheus {
            guard result.prometheusURL != nil, let query = result.prometheusQuery, !query.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--metric prometheus needs --prometheus-url and --prometheus-query")
            }
        } else if result.prometheusURL != nil || result.prometheusQuery != nil {
            throw ValidationError("--prometheus-url and --prometheus-query are for --metric prometheus")
        }
        return result
    }

    /// `--metric` values paired with `--target` values in order: as many targets as metrics, or
    /// none (each metric's default). Without metrics, the targets are the policy's: none here.
    public static func pair(_ metrics: [ScalingMetric], _ targets: [Double]) throws -> [(ScalingMetric, Double?)] {
        guard !metrics.isEmpty else { return [] }
        guard targets.isEmpty || targets.count == metrics.count else {
            throw ValidationError("give one --target per --metric, in the same order (\(metrics.count) metrics, \(targets.count) targets)")
        }
        return metrics.enumerated().map { index, metric in (metric, targets.isEmpty ? nil : targets[index]) }
    }

    /// The metrics with their targets checked (each once, each target given or defaulted, > 0),
    /// and the policy, if given, target tracking.
    public static func targets(_ given: [(ScalingMetric, Double?)], policy: PolicyOptions.PolicyKind?) throws -> [MetricTarget] {
        var result: [MetricTarget] = []
        var seen: Set<ScalingMetric> = []
        for (metric, target) in given {
            guard seen.insert(metric).inserted else { throw ValidationError("--metric \(metric.rawValue) is given twice") }
            guard let value = target ?? defaultTargets[metric] else {
                throw ValidationError("--metric \(metric.rawValue) needs its --target (\(example(metric)))")
            }
            guard value > 0, value.isFinite else { throw ValidationError("--target for \(metric.rawValue) must be a number > 0, not \(value)") }
            if metric == .cpu, value > 100 {
                throw ValidationError("--target for cpu is a percent of the instances' vCPUs, at most 100, not \(value)")
            }
            result.append(MetricTarget(metric, target: value))
        }
        if !result.isEmpty, let policy, policy != .target {
            throw ValidationError("--metric scales by target tracking; it does not combine with --policy \(policy.rawValue)")
        }
        return result
    }

    static func example(_ metric: ScalingMetric) -> String {
        switch metric {
        case .requests: "--metric requests --target 12.5"
        case .cpu: "--metric cpu --target 60"
        case .latency: "an SLO in ms: --metric latency --target 200"
        case .inflight: "--metric inflight --target 4"
        case .prometheus: "the query's value per instance: --metric prometheus --target 100"
        }
    }
}
