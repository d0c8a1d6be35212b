import Foundation
import GRDB

/// Something the scheduler did or saw happen: one row of `events`.
public struct ScalingEvent: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "events"

    public enum Kind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// A scale-up began (the instance is being made).
        case scaleUp = "scale_up"
        /// A scale-down began (the instance is being drained).
        case scaleDown = "scale_down"
        /// An instance serves and was added to the balancer.
        case register
        /// An instance left the balancer (drained).
        case drain
        /// An instance was deleted.
        case delete
        /// An instance found at start (or made by an earlier run) was taken over.
        case adopt
        /// An unhealthy instance is being replaced.
        case replace
        /// An action failed (and what it made was removed).
        case failure
        /// A manual request through the API.
        case manual
        /// The scheduler started (with what it found).
        case start
        /// A warm-pool member is ready: made, serving, held out of the balancer.
        case prepare
        /// A scale-up takes a warm-pool member (resumed or restored, then registered).
        case launchFromPool = "launch_from_pool"
        /// A scale-in held its drained instance in the warm pool instead of deleting it.
        case returnToPool = "return_to_pool"
        /// A libvirt host stopped answering, was given up, or answers again.
        case host
        /// The settings were re-read (SIGHUP): what changed.
        case reload
    }

    public var id: Int64?
    /// Seconds since 1970.
    public var time: Double
    public var kind: Kind
    public var instance: String?
    public var reason: String
    /// A scaling action that starts the cooldown (a restart resumes it from the last of these);
    /// bringing the group within min and max, and repairs, do not.
    public var startsCooldown: Bool
    /// For a scale-up or scale-down the policy decided: the metric that asked for it (`cpu`,
    /// `requests`, …), its value and its target, in the metric's unit. nil otherwise.
    public var metric: ScalingMetric?
    public var value: Double?
    public var target: Double?

    public init(
        time: Double, kind: Kind, instance: String? = nil, reason: String, startsCooldown: Bool = false,
        trigger: MetricCombiner.Reading? = nil
    ) {
        self.metric = trigger?.metric
        self.value = trigger?.value
        self.target = trigger?.target
        self.time = time
        self.kind = kind
        self.instance = instance
        self.reason = reason
        self.startsCooldown = startsCooldown
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension ScalingMetric: DatabaseValueConvertible {}
