import Prometheus
import Synchronization

/// `/metrics` in Prometheus text, through swift-prometheus.
///
/// The hot path only bumps the backends' atomics; a scrape copies them into the registry (counters
/// advance by what changed since the last scrape), so metrics cost nothing per request.
final class LoadBalancerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let exported = Mutex(Exported())

    /// What the last scrape exported: the totals' values, and each backend's series.
    private struct Exported {
        var requests = 0
        var refused = 0
        var series: [String: BackendSeries] = [:]
    }

    /// One backend's series (by name and address), for one `Backend` object: one removed and
    /// added again between two scrapes counts from zero, and gets new series.
    private struct BackendSeries {
        let backend: Backend
        let requests: Counter
        let failures: Counter
        let inFlight: Gauge
        let healthy: Gauge
        let draining: Gauge
        var requestsExported = 0
        var failuresExported = 0
    }

    func render(balancer: LoadBalancer) -> String {
        exported.withLock { exported in
            /// Advances `counter` by what `value` grew since `last`, and remembers it.
            func advance(_ counter: Counter, from last: inout Int, to value: Int) {
                if value > last { counter.increment(by: Int64(value - last)) }
                last = value
            }
            advance(registry.makeCounter(name: "lb_requests_total"), from: &exported.requests, to: balancer.requestsTotal)
            registry.makeGauge(name: "lb_connections_open").set(Double(balancer.context.counters.connections.load(ordering: .relaxed)))
            advance(
                registry.makeCounter(name: "lb_connections_refused_total"), from: &exported.refused,
                to: balancer.context.counters.refusedConnections.load(ordering: .relaxed))
            var current: Set<String> = []
            for backend in balancer.pool.all {
                let key = "\(backend.name) \(backend.endpoint)"
                current.insert(key)
                if let old = exported.series[key], old.backend !== backend { unregister(key, from: &exported) }
                var series = exported.series[key] ?? makeSeries(for: backend)
                let snapshot = backend.snapshot
                advance(series.requests, from: &series.requestsExported, to: snapshot.requestsTotal)
                advance(series.failures, from: &series.failuresExported, to: snapshot.failuresTotal)
                series.inFlight.set(Double(snapshot.inFlight))
                series.healthy.set(Double(snapshot.healthy ? 1 : 0))
                series.draining.set(Double(snapshot.state == .draining ? 1 : 0))
                exported.series[key] = series
            }
            // A removed backend's series go with it: a scrape shows only the pool, and a balancer
            // that churns through backends does not keep every one it ever had.
            for key in exported.series.keys where !current.contains(key) { unregister(key, from: &exported) }
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
    }

    private func makeSeries(for backend: Backend) -> BackendSeries {
        let labels = [("backend", backend.name), ("address", backend.endpoint.description)]
        return BackendSeries(
            backend: backend,
            requests: registry.makeCounter(name: "lb_backend_requests_total", labels: labels),
            failures: registry.makeCounter(name: "lb_backend_failures_total", labels: labels),
            inFlight: registry.makeGauge(name: "lb_backend_in_flight", labels: labels),
            healthy: registry.makeGauge(name: "lb_backend_healthy", labels: labels),
            draining: registry.makeGauge(name: "lb_backend_draining", labels: labels))
    }

    private func unregister(_ key: String, from exported: inout Exported) {
        guard let series = exported.series.removeValue(forKey: key) else { return }
        registry.unregisterCounter(series.requests)
        registry.unregisterCounter(series.failures)
        registry.unregisterGauge(series.inFlight)
        registry.unregisterGauge(series.healthy)
        registry.unregisterGauge(series.draining)
    }
}
