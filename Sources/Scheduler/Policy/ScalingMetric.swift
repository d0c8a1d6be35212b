/// A signal the scheduler can scale on (issue 20), each tracked against a target of its own.
///
/// So far the pure rule that combines them (``MetricCombiner``); reading CPU from libvirt and
/// `/proc`, latency from the balancer, in-flight counts and Prometheus queries comes next.
public enum ScalingMetric: String, Sendable, Hashable, CaseIterable {
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
}
