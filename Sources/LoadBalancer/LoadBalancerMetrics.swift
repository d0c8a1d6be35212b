import Prometheus
import Synchronization

/// `/metrics` in Prometheus text, through swift-prometheus.
///
/// The hot path only bumps the backends' atomics; a scrape copies them into the registry (counters
/// advance by what changed since the last scrape), so metrics cost nothing per request.
final class LoadBalancerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let exported = Mutex<[String: Int]>([:])

    func render(balancer: LoadBalancer) -> String {
        exported.withLock { last in
            func advance(_ counter: Counter, key: String, to value: Int) {
                let delta = value - last[key, default: 0]
                if delta > 0 { counter.increment(by: Int64(delta)) }
                last[key] = value
            }
            let total = registry.makeCounter(name: "lb_requests_total")
            advance(total, key: "requests", to: balancer.requestsTotal)
            registry.makeGauge(name: "lb_connections_open").set(Double(balancer.context.counters.connections.load(ordering: .relaxed)))
            let refused = registry.makeCounter(name: "lb_connections_refused_total")
            advance(refused, key: "refused", to: balancer.context.counters.refusedConnections.load(ordering: .relaxed))
            for backend in balancer.pool.all {
                let labels = [("backend", backend.name), ("address", backend.endpoint.description)]
                let snapshot = backend.snapshot
                advance(
                    registry.makeCounter(name: "lb_backend_requests_total", labels: labels), key: "req:\(backend.name)",
                    to: snapshot.requestsTotal)
                advance(
                    registry.makeCounter(name: "lb_backend_failures_total", labels: labels), key: "fail:\(backend.name)",
                    to: snapshot.failuresTotal)
                registry.makeGauge(name: "lb_backend_in_flight", labels: labels).set(Double(snapshot.inFlight))
                registry.makeGauge(name: "lb_backend_healthy", labels: labels).set(Double(snapshot.healthy ? 1 : 0))
                registry.makeGauge(name: "lb_backend_draining", labels: labels).set(Double(snapshot.state == .draining ? 1 : 0))
            }
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
    }
}
