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

    public init(
        time: Double, inService: Int, pending: Int, desired: Int, requestRate: Double, loadPerInstance: Double,
        p50Milliseconds: Double? = nil, p99Milliseconds: Double? = nil
    ) {
        self.time = time
        self.inService = inService
        self.pending = pending
        self.desired = desired
        self.requestRate = requestRate
        self.loadPerInstance = loadPerInstance
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
    }
}
