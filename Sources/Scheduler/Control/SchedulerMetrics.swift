import Prometheus

/// The scheduler's own figures for `/metrics`, through swift-prometheus: decisions by action,
/// actions by kind and result with their durations, instances, load, and the tick's cost.
public final class SchedulerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    func decided(_ action: ScalingDecider.Action) {
        let name: String
        switch action {
        case .none: name = "hold"
        case .scaleUp: name = "scale_up"
        case .scaleDown: name = "scale_down"
        }
        registry.makeCounter(name: "scheduler_decisions_total", labels: [("action", name)]).increment()
    }

    func acted(kind: String, succeeded: Bool, duration: Duration) {
        registry.makeCounter(name: "scheduler_actions_total", labels: [("kind", kind), ("result", succeeded ? "ok" : "failed")]).increment()
        registry.makeDurationHistogram(
            name: "scheduler_action_duration_seconds", labels: [("kind", kind)],
            buckets: [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120)]
        ).record(duration)
    }

    func observe(_ sample: Sample) {
        registry.makeGauge(name: "scheduler_instances", labels: [("state", "in_service")]).set(Double(sample.inService))
        registry.makeGauge(name: "scheduler_instances", labels: [("state", "pending")]).set(Double(sample.pending))
        registry.makeGauge(name: "scheduler_instances", labels: [("state", "desired")]).set(Double(sample.desired))
        registry.makeGauge(name: "scheduler_request_rate").set(sample.requestRate)
        registry.makeGauge(name: "scheduler_load_per_instance").set(sample.loadPerInstance)
    }

    /// A metric's read (the providers' CPU times, the PromQL query) and how long it took.
    func signalRead(_ metric: ScalingMetric, duration: Duration) {
        registry.makeDurationHistogram(
            name: "scheduler_signal_read_duration_seconds", labels: [("metric", metric.rawValue)],
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2)]
        ).record(duration)
    }

    /// The scaling metrics' values this tick, each against its target.
    func observe(_ sample: Sample, targets: [MetricTarget]) {
        for target in targets {
            registry.makeGauge(name: "scheduler_metric_target", labels: [("metric", target.metric.rawValue)]).set(target.target)
            // No sample: NaN, not the last value (a gap in a graph, not a stale line).
            registry.makeGauge(name: "scheduler_metric_value", labels: [("metric", target.metric.rawValue)])
                .set(sample.value(of: target.metric) ?? .nan)
        }
    }

    func tickDuration(_ duration: Duration) {
        registry.makeDurationHistogram(
            name: "scheduler_tick_duration_seconds",
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1)]
        ).record(duration)
    }

    public func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
