import Logging
import NIOCore
import ServiceLifecycle

/// Finishes drains: waits until a draining backend has no request in flight, closes its pooled
/// connections on every event loop, then removes it from the pool. A `Service`, so that drains run
/// as child tasks of one structured group.
final class Drainer: Service {
    let pool: BackendPool
    let proxy: ProxyServer
    let logger: Logger
    private let requests: AsyncStream<(Backend, Bool)>
    private let continuation: AsyncStream<(Backend, Bool)>.Continuation
    /// Longest wait for in-flight requests before the backend is removed anyway.
    let limit: Duration = .seconds(60)

    init(pool: BackendPool, proxy: ProxyServer, logger: Logger) {
        self.pool = pool
        self.proxy = proxy
        self.logger = logger
        (requests, continuation) = AsyncStream.makeStream()
    }

    /// Queues a drain; `removeFromPool` is false when the entry was already replaced.
    func drain(_ backend: Backend, removeFromPool: Bool) {
        if !removeFromPool { backend.startDraining() }
        continuation.yield((backend, removeFromPool))
    }

    func run() async throws {
        let continuation = self.continuation
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await (backend, remove) in requests {
                    group.addTask { await self.finish(backend, remove: remove) }
                }
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
    }

    private func finish(_ backend: Backend, remove: Bool) async {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while backend.inFlight.load(ordering: .relaxed) > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await proxy.forEachPool { $0.closeIdle(to: backend) }
        if remove { pool.remove(backend) }
        logger.info("backend drained", metadata: ["backend": "\(backend.name)"])
    }
}
