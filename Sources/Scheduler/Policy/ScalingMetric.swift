/// A signal the scheduler can scale on (issue 20), each tracked against a target of its own.
///
/// The scheduler reads each one every tick (CPU from libvirt's domain stats or `/proc`, latency
/// and in-flight counts from the balancer, a PromQL query), and ``MetricCombiner`` turns the
/// readings into one count.
public enum ScalingMetric: String, Sendable, Hashable, CaseIterable, Codable {
    /// Requests per in-service instance over the window.
    case requests
    /// Average CPU utilisation of the in-service instances, percent of their vCPUs.
    case cpu
    /// The balancer's p99 (or another quantile) over the window, in ms, against an SLO: it only
    /// ever scales up.
    case latency
    /// Concurrent requests per in-service instance.
    case inflight
    /// One number from a PromQL query, per instance (as KEDA's Prometheus scaler).
    case prometheus

    /// Whether the value is per instance, so that target tracking scales the count in proportion
    /// (HPA's `ceil(current × value / target)`). Latency is not: more instances lower it, but not
    /// in proportion.
    public var isPerInstance: Bool { self != .latency }

    /// The unit of its value and target, for reasons and charts.
    public var unit: String {
        switch self {
        case .requests: "req/VM"
        case .cpu: "% CPU"
        case .latency: "ms"
        case .inflight: "in flight/VM"
        case .prometheus: "/VM"
        }
    }
}
