import AsyncHTTPClient
import Logging
import NIOCore
import ServiceLifecycle

/// Active health checks of every backend that is not draining, all at once, every interval.
///
/// `GET /healthz`; a backend that answers 404 there is checked on `/` from then on (the original
/// project's VMs had nothing else). A status below 500 passes.
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
            try? await gracefulShutdown()
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await checkAll()
            try? await Task.sleep(for: configuration.interval)
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
        var passed = await probe(backend, path: backend.checkPath.withLock { $0 } ?? configuration.path)
        if !passed.answered || passed.status == 404, backend.checkPath.withLock({ $0 }) == nil {
            let fallback = await probe(backend, path: "/")
            if fallback.answered && fallback.status < 500 {
                backend.checkPath.withLock { $0 = "/" }
                passed = fallback
            }
        }
        let ok = passed.answered && passed.status < 500 && passed.status != 404
        if let change = backend.recordCheck(passed: ok, rise: configuration.rise, fall: configuration.fall) {
            logger.info(
                change ? "backend up" : "backend down",
                metadata: ["backend": "\(backend.name)", "address": "\(backend.endpoint)"])
        }
    }

    private func probe(_ backend: Backend, path: String) async -> (answered: Bool, status: UInt) {
        var request = HTTPClientRequest(url: "http://\(backend.endpoint)\(path)")
        request.headers.add(name: "User-Agent", value: "autoscaler-loadbalancer-healthcheck")
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(configuration.timeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return (true, response.status.code)
        } catch {
            return (false, 0)
        }
    }
}
