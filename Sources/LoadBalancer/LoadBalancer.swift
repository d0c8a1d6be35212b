import AutoscalerAPI
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The load balancer: the proxy, its backend pool, health checks, drains and the admin API, as
/// services to run in one `ServiceGroup`.
public final class LoadBalancer: Sendable {
    /// The settings it runs with (a reload changes some of them).
    public var configuration: Configuration { context.configuration }
    public let pool: BackendPool
    let context: ProxyContext
    let group: MultiThreadedEventLoopGroup
    let proxy: ProxyServer
    let healthChecker: HealthChecker
    let drainer: Drainer
    let metrics: LoadBalancerMetrics
    let redirect: RedirectServer?
    let logger: Logger
    let adminPort = Mutex<Int?>(nil)

    public init(configuration: Configuration, logger: Logger = Logger(label: "loadbalancer")) {
        self.logger = logger
        pool = BackendPool(algorithm: configuration.algorithm)
        for backend in configuration.backends {
            pool.upsert(name: backend.name, endpoint: backend.endpoint, healthy: true)
        }
        metrics = LoadBalancerMetrics()
        context = ProxyContext(configuration: configuration, pool: pool, durations: RequestDurations(registry: metrics.registry))
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        proxy = ProxyServer(context: context, group: group, logger: logger)
        healthChecker = HealthChecker(configuration: configuration.health, pool: pool, group: group, logger: logger)
        drainer = Drainer(pool: pool, proxy: proxy, logger: logger)
        if let port = configuration.redirectHTTPPort {
            let proxy = proxy
            redirect = RedirectServer(
                host: configuration.host, port: port, httpsPort: { proxy.boundPort.withLock { $0 } }, group: group, logger: logger)
        } else {
            redirect = nil
        }
    }

    /// Everything to run: proxy, health checks, drains, admin API.
    public var services: [any Service] {
        [proxy, healthChecker, drainer, MemoryTrimmer(pool: pool, logger: logger), AdminAPI(balancer: self).application]
            + (redirect.map { [$0] } ?? [])
    }

    /// The redirect port once listening (`--redirect-http`).
    public var redirectPort: Int? { redirect?.boundPort.withLock { $0 } }

    /// The proxy's port once listening (useful with port 0).
    public var proxyPort: Int? { proxy.boundPort.withLock { $0 } }
    /// The admin API's port once listening.
    public var adminAPIPort: Int? { adminPort.withLock { $0 } }

    /// Total requests received by the proxy.
    public var requestsTotal: Int { context.counters.requests.load(ordering: .relaxed) }

    /// Adds or updates a backend (PUT); a new one takes traffic after its first passing check,
    /// which runs now. Returns whether it was new or changed.
    public func register(name: String, endpoint: Endpoint) async -> Bool {
        let existing = pool.backend(named: name)
        let (backend, changed) = pool.upsert(name: name, endpoint: endpoint, healthy: !configuration.health.enabled)
        if changed {
            if let existing, existing !== backend { drainer.drain(existing, removeFromPool: false) }
            logger.info("backend added", metadata: ["backend": "\(name)", "address": "\(endpoint)"])
            if configuration.health.enabled { await healthChecker.check(backend) }
        }
        return changed
    }

    /// Drains a backend (DELETE): no new requests at once, in-flight ones finish, pooled
    /// connections close, then it is gone. Returns its state as draining began (taken before the
    /// drain can finish), or nil when there is no such backend.
    public func drain(name: String) -> BackendStatus? {
        guard let backend = pool.backend(named: name) else { return nil }
        guard backend.state != .draining else { return backend.snapshot }
        backend.startDraining()
        let snapshot = backend.snapshot
        logger.info("backend draining", metadata: ["backend": "\(name)"])
        drainer.drain(backend, removeFromPool: true)
        return snapshot
    }

    /// `/api/v1/stats`.
    public var stats: BalancerStats {
        var stats = pool.stats(requestsTotal: requestsTotal)
        stats.latency = context.durations.snapshot
        return stats
    }
}
