import AutoscalerAPI
import Prometheus
import Synchronization

/// Durations of proxied requests, from the request head to the end of the response (or failure).
///
/// Kept twice on purpose: lock-free bucket counters for `/api/v1/stats` (whose readers derive
/// windowed percentiles from two reads), and swift-prometheus's histogram for `/metrics`, which
/// holds its counts privately. Both cost tens of nanoseconds per request.
package final class RequestDurations: Sendable {
    private let boundsNanoseconds: [Int64]
    private let buckets: [Cell]
    private let count = Atomic<Int>(0)
    private let sumNanoseconds = Atomic<Int>(0)
    private let prometheus: ValueHistogram

    package init(registry: PrometheusCollectorRegistry, boundsSeconds: [Double] = LatencyBuckets.defaultBoundsSeconds) {
        boundsNanoseconds = boundsSeconds.map { Int64($0 * 1e9) }
        buckets = (0...boundsSeconds.count).map { _ in Cell() }
        prometheus = registry.makeValueHistogram(
            name: "lb_request_duration_seconds", buckets: boundsSeconds,
            help: "Time from a request's head to the end of its response, proxied or failed")
    }

    func record(nanoseconds: Int64) {
        var index = 0
        while index < boundsNanoseconds.count && boundsNanoseconds[index] < nanoseconds { index += 1 }
        buckets[index].value.add(1, ordering: .relaxed)
        count.add(1, ordering: .relaxed)
        sumNanoseconds.add(Int(nanoseconds), ordering: .relaxed)
        prometheus.record(Double(nanoseconds) / 1e9)
    }

    /// An atomic in a class: arrays cannot hold non-copyable `Atomic`s themselves.
    private final class Cell: Sendable {
        let value = Atomic<Int>(0)
    }

    var snapshot: LatencyBuckets {
        LatencyBuckets(
            boundsSeconds: boundsNanoseconds.map { Double($0) / 1e9 }, counts: buckets.map { $0.value.load(ordering: .relaxed) },
            count: count.load(ordering: .relaxed), sumSeconds: Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9)
    }
}
