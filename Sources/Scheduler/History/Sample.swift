import Foundation
import GRDB

/// What the scheduler saw at one tick: one row of `samples`.
public struct Sample: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "samples"

    /// Seconds since 1970.
    public var time: Double
    public var inService: Int
    public var pending: Int
    public var desired: Int
    /// Requests per second through the balancer over the window.
    public var requestRate: Double
    /// Requests per in-service instance over the window (the policy's input).
    public var loadPerInstance: Double
    /// The balancer's latency percentiles over the window, in milliseconds, when it has them.
    public var p50Milliseconds: Double?
    public var p99Milliseconds: Double?
    /// The other scaling metrics' values this tick (issue 20), each in its target's unit; nil
    /// when not read (not scaled on, or no sample): average CPU utilisation of the in-service
    /// instances over the window in percent, the latency metric's quantile in ms, requests in
    /// flight per in-service instance, and the PromQL query's value per in-service instance.
    public var cpuPercent: Double?
    public var latencyMilliseconds: Double?
    public var inflightPerInstance: Double?
    public var prometheusValue: Double?

    public init(
        time: Double, inService: Int, pending: Int, desired: Int, requestRate: Double, loadPerInstance: Double,
        p50Milliseconds: Double? = nil, p99Milliseconds: Double? = nil, signals: [ScalingMetric: Double] = [:]
    ) {
        self.cpuPercent = signals[.cpu]
        self.latencyMilliseconds = signals[.latency]
        self.inflightPerInstance = signals[.inflight]
        self.prometheusValue = signals[.prometheus]
        self.time = time
        self.inService = inService
        self.pending = pending
        self.desired = desired
        self.requestRate = requestRate
        self.loadPerInstance = loadPerInstance
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
    }

    /// The value of `metric` recorded in this sample.
    public func value(of metric: ScalingMetric) -> Double? {
        switch metric {
        case .requests: loadPerInstance
        case .cpu: cpuPercent
        case .latency: latencyMilliseconds
        case .inflight: inflightPerInstance
        case .prometheus: prometheusValue
        }
    }
}
