import AutoscalerAPI
import Foundation
import GRDB

/// The scheduler's memory in SQLite (GRDB): a sample per tick and every event, kept for
/// ``retention``, so that a restart resumes its cooldown and the dashboard can show the past.
public final class History: Sendable {
    private let database: DatabaseQueue
    /// How long rows are kept; default 7 days.
    public let retention: Duration

    /// Opens (or creates) `path`; `nil` keeps everything in memory (tests).
    public init(path: String?, retention: Duration = .seconds(7 * 24 * 3600)) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        if let path {
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            database = try DatabaseQueue(path: path, configuration: configuration)
        } else {
            database = try DatabaseQueue(configuration: configuration)
        }
        self.retention = retention
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "samples") { t in
                t.column("time", .double).notNull().indexed()
                t.column("inService", .integer).notNull()
                t.column("pending", .integer).notNull()
                t.column("desired", .integer).notNull()
                t.column("requestRate", .double).notNull()
                t.column("loadPerInstance", .double).notNull()
                t.column("p50Milliseconds", .double)
                t.column("p99Milliseconds", .double)
            }
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .double).notNull().indexed()
                t.column("kind", .text).notNull()
                t.column("instance", .text)
                t.column("reason", .text).notNull()
            }
        }
        migrator.registerMigration("v2: events that start the cooldown") { db in
            try db.alter(table: "events") { t in t.add(column: "startsCooldown", .boolean).notNull().defaults(to: false) }
            try db.execute(sql: "UPDATE events SET startsCooldown = 1 WHERE kind IN ('scale_up', 'scale_down')")
        }
        migrator.registerMigration("v3: scaling metrics beyond requests") { db in
            try db.alter(table: "samples") { t in
                t.add(column: "cpuPercent", .double)
                t.add(column: "latencyMilliseconds", .double)
                t.add(column: "inflightPerInstance", .double)
                t.add(column: "prometheusValue", .double)
            }
            try db.alter(table: "events") { t in
                t.add(column: "metric", .text)
                t.add(column: "value", .double)
                t.add(column: "target", .double)
            }
        }
        return migrator
    }

    public func record(_ sample: Sample) throws {
        try database.write { db in try sample.insert(db) }
    }

    @discardableResult
    public func record(_ event: ScalingEvent) throws -> ScalingEvent {
        try database.write { db in
            var event = event
            try event.insert(db)
            return event
        }
    }

    /// Samples after `since` (seconds since 1970), oldest first, at most `limit`.
    public func samples(since: Double, limit: Int = 100_000) throws -> [Sample] {
        try database.read { db in
            try Sample.filter(Column("time") > since).order(Column("time")).limit(limit).fetchAll(db)
        }
    }

    /// Events after `since`, oldest first, at most `limit`.
    /// The newest `limit` samples after `since`, in time order.
    public func latestSamples(since: Double, limit: Int) throws -> [Sample] {
        try database.read { db in
            try Sample.filter(Column("time") > since).order(Column("time").desc).limit(limit).fetchAll(db)
        }.reversed()
    }

    public func events(since: Double, limit: Int = 10_000) throws -> [ScalingEvent] {
        try database.read { db in
            try ScalingEvent.filter(Column("time") > since).order(Column("time"), Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// The time of the last action that started the cooldown (to resume it after a restart).
    public func lastActionTime() throws -> Double? {
        try database.read { db in
            try Double.fetchOne(db, sql: "SELECT MAX(time) FROM events WHERE startsCooldown")
        }
    }

    /// Deletes rows older than the retention; returns how many went.
    @discardableResult
    public func prune(now: Double = Date().timeIntervalSince1970) throws -> Int {
        let cutoff = now - retention.seconds
        return try database.write { db in
            try Sample.filter(Column("time") < cutoff).deleteAll(db) + ScalingEvent.filter(Column("time") < cutoff).deleteAll(db)
        }
    }
}
