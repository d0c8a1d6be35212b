import NIOSSL
import Prometheus
import Synchronization

/// What every proxy connection shares: settings, the pool and the balancer-wide counters.
package final class ProxyContext: Sendable {
    private let _configuration: Mutex<LoadBalancer.Configuration>
    /// The settings now. A connection takes them once, when it opens: a reload applies to the
    /// connections opened after it, and none is dropped.
    var configuration: LoadBalancer.Configuration {
        get { _configuration.withLock { $0 } }
        set { _configuration.withLock { $0 = newValue } }
    }
    let pool: BackendPool
    private let _tlsContext = Mutex<NIOSSLContext?>(nil)
    /// The TLS context new client connections get, when the proxy serves TLS: made at start,
    /// replaced by a reload (connections keep the one they began with).
    var tlsContext: NIOSSLContext? {
        get { _tlsContext.withLock { $0 } }
        set { _tlsContext.withLock { $0 = newValue } }
    }
    let counters = Counters()
    let durations: RequestDurations

    final class Counters: Sendable {
        let requests = Atomic<Int>(0)
        let connections = Atomic<Int>(0)
        let refusedConnections = Atomic<Int>(0)
    }

    package init(configuration: LoadBalancer.Configuration, pool: BackendPool, durations: RequestDurations) {
        self._configuration = Mutex(configuration)
        self.pool = pool
        self.durations = durations
    }
}
