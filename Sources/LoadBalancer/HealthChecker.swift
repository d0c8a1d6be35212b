import AsyncHTTPClient
import AutoscalerAPI
import Logging
import NIOCore
import ServiceLifecycle

/// Active health checks of every backend that is not draining, all at once, every interval.
///
/// `GET /healthz` through ``HTTPProbe``; a backend that answers 404 there is checked on `/` from
/// then on (the original project's VMs had nothing else). A status below 500 passes; a backend
/// that does not answer is probed once, not twice.
final class HealthChecker: Service {
    let configuration: LoadBalancer.HealthCheckConfiguration
    let pool: BackendPool
    let client: HTTPClient
    let logger: Logger

    init(configuration: LoadBalancer.HealthCheckConfiguration, pool: BackendPool, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.pool = pool
        self.client = client
        self.logger = logger
    }

    func run() async throws {
        guard configuration.enabled else {
            await reviveFailedBackends()
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await checkAll()
            try? await Task.sleep(for: configuration.interval)
        }
    }

    /// Without active checks: lets backends that a passive failure took out back in after the
    /// fail timeout, checking a few times a timeout, until shutdown.
    func reviveFailedBackends() async {
        let period = min(configuration.failTimeout / 4, .seconds(1))
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = ContinuousClock.now
                for backend in self.pool.all where backend.reviveAfterPassiveFailure(now: now, failTimeout: self.configuration.failTimeout) {
                    self.logger.info(
                        "backend back in after the fail timeout",
                        metadata: ["backend": "\(backend.name)", "address": "\(backend.endpoint)"])
                }
                try await Task.sleep(for: period)
            }
        }
    }

    func checkAll() async {
        await withTaskGroup(of: Void.self) { group in
            for backend in pool.all where backend.state != .draining {
                group.addTask { await self.check(backend) }
            }
        }
    }

    /// Checks one backend and records the result; logs changes of health.
    func check(_ backend: Backend) async {
        let probe = HTTPProbe(path: configuration.path, requestTimeout: configuration.timeout)
        let knownPath = backend.checkPath.withLock { $0 }
        var status = await probe.status(backend.endpoint, path: knownPath, client: client)
        if status == 404, knownPath == nil {
            // No /healthz: the original's VMs serve only `/`; check that from now on.
            status = await probe.status(backend.endpoint, path: "/", client: client)
            if let status, status < 500 { backend.checkPath.withLock { $0 = "/" } }
        }
        let passed = status.map { $0 < 500 && $0 != 404 } ?? false
        if let change = backend.recordCheck(passed: passed, rise: configuration.rise, fall: configuration.fall) {
            logger.info(
                change ? "backend up" : "backend down",
                metadata: ["backend": "\(backend.name)", "address": "\(backend.endpoint)"])
        }
    }
}
