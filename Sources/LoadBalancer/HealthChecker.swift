import AutoscalerAPI
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Active health checks of every backend that is not draining, every interval, spread over it
/// (as HAProxy's `spread-checks`: 1,000 backends are not 1,000 connections in one instant).
///
/// `GET /healthz` through ``HealthProbe``, on the proxy's event loops; a backend that answers 404
/// there is checked on `/` from then on (the original project's VMs had nothing else). A status
/// below 500 passes; a backend that does not answer is probed once, not twice.
final class HealthChecker: Service {
    let configuration: LoadBalancer.HealthCheckConfiguration
    let pool: BackendPool
    let group: any EventLoopGroup
    let logger: Logger

    init(configuration: LoadBalancer.HealthCheckConfiguration, pool: BackendPool, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.pool = pool
        self.group = group
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

    /// One round: each backend's check starts at its own moment in the interval, on the next
    /// event loop; nothing waits for them here (a check ends within its time-out, before the next
    /// round).
    func checkAll() async {
        let backends = pool.all.filter { $0.state != .draining }
        guard !backends.isEmpty else { return }
        let step = TimeAmount.nanoseconds(configuration.interval.nanoseconds / Int64(backends.count))
        for (index, backend) in backends.enumerated() {
            // The check runs on the loop its timer fires on: no hop to another.
            let loop = group.next()
            loop.scheduleTask(in: step * Int64(index)) { _ = self.startCheck(backend, on: loop) }
        }
    }

    /// Checks one backend now and waits for the result (a new backend's first check).
    func check(_ backend: Backend) async {
        _ = try? await startCheck(backend, on: group.next()).get()
    }

    /// Checks one backend on `loop` and records the result; logs changes of health.
    private func startCheck(_ backend: Backend, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let timeout = TimeAmount.nanoseconds(configuration.timeout.nanoseconds)
        let knownPath = backend.checkPath.withLock { $0 }
        return HealthProbe.status(backend, path: knownPath ?? configuration.path, timeout: timeout, on: loop)
            .flatMap { status -> EventLoopFuture<UInt?> in
                guard status == 404, knownPath == nil else { return loop.makeSucceededFuture(status) }
                // No /healthz: the original's VMs serve only `/`; check that from now on.
                return HealthProbe.status(backend, path: "/", timeout: timeout, on: loop).map { status in
                    if let status, status < 500 { backend.checkPath.withLock { $0 = "/" } }
                    return status
                }
            }
            .map { [configuration, logger] status in
                let passed = status.map { $0 < 500 && $0 != 404 } ?? false
                if let change = backend.recordCheck(passed: passed, rise: configuration.rise, fall: configuration.fall) {
                    logger.info(
                        change ? "backend up" : "backend down",
                        metadata: ["backend": "\(backend.name)", "address": "\(backend.endpoint)"])
                }
            }
    }
}
