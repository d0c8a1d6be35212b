import Prometheus
import Synchronization

/// What every proxy connection shares: settings, the pool and the balancer-wide counters.
package final class ProxyContext: Sendable {
    let configuration: LoadBalancer.Configuration
    let pool: BackendPool
    let counters = Counters()
    let durations: RequestDurations

    final class Counters: Sendable {
        let requests = Atomic<Int>(0)
        let connections = Atomic<Int>(0)
        let refusedConnections = Atomic<Int>(0)
    }

    package init(configuration: LoadBalancer.Configuration, pool: BackendPool, durations: RequestDurations) {
        self.configuration = configuration
        self.pool = pool
        self.durations = durations
    }
}
