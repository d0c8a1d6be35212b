/// A metric the scheduler scales on and the value it keeps it at (`--metric cpu --target 60`).
public struct MetricTarget: Sendable, Equatable, Hashable {
    public var metric: ScalingMetric
    /// In the metric's unit: requests per instance per window, percent CPU, milliseconds (the
    /// latency SLO), requests in flight per instance, or the query's value per instance.
    public var target: Double

    public init(_ metric: ScalingMetric, target: Double) {
        self.metric = metric
        self.target = target
    }

    /// `cpu 60 % CPU`, for logs and the status.
    public var description: String {
        "\(metric.rawValue) \(target.rounded(toPlaces: 2)) \(metric.unit)"
    }
}
