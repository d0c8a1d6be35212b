import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The client-facing listener: accepts connections and gives each a ``ProxyHandler``.
///
/// A `Service`: on graceful shutdown it stops accepting, lets in-flight requests finish (up to the
/// configured grace), then closes what is left.
package final class ProxyServer: Service {
    let context: ProxyContext
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    /// One connection pool per event loop, each touched only from its loop.
    let pools: [ObjectIdentifier: NIOLoopBoundBox<BackendConnectionPool>]
    /// The bound port, once listening (for port 0).
    let boundPort = Mutex<Int?>(nil)

    init(context: ProxyContext, group: MultiThreadedEventLoopGroup, logger: Logger) {
        self.context = context
        self.group = group
        self.logger = logger
        var pools: [ObjectIdentifier: NIOLoopBoundBox<BackendConnectionPool>] = [:]
        for loop in group.makeIterator() {
            let pool = BackendConnectionPool(
                eventLoop: loop, connectTimeout: .nanoseconds(context.configuration.connectTimeout.nanoseconds),
                maxIdlePerBackend: context.configuration.maxIdlePerBackend)
            pools[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(pool, eventLoop: loop)
        }
        self.pools = pools
    }

    /// Runs `body` with each event loop's connection pool, on that loop.
    func forEachPool(_ body: @escaping @Sendable (BackendConnectionPool) -> Void) async {
        for bound in pools.values {
            try? await bound.eventLoop.submit { body(bound.value) }.get()
        }
    }

    /// Serves until graceful shutdown, then closes pooled connections and stops the event loops
    /// (closing whatever the grace period left open); the loops stop on a failed start too.
    package func run() async throws {
        do {
            try await serve()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        await forEachPool { $0.closeAll() }
        try await group.shutdownGracefully()
        logger.info("proxy stopped")
    }

    /// The one handler of a client connection: the proxy, which keeps its time limits, decodes
    /// its requests and encodes its responses itself. Called on the channel's event loop.
    package static func configureClientPipeline(
        _ channel: any Channel, context: ProxyContext, connections: BackendConnectionPool
    ) throws {
        if let tls = context.tlsContext {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
        }
        try channel.pipeline.syncOperations.addHandler(ProxyHandler(context: context, connections: connections))
    }

    private func serve() async throws {
        let configuration = context.configuration
        if let files = configuration.tls { context.tlsContext = try LoadBalancer.makeTLSContext(files) }
        let quiesce = ServerQuiescingHelper(group: group)
        let context = self.context
        let pools = self.pools
        let limiter = ConnectionLimiter(context: context)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    try channel.pipeline.syncOperations.addHandler(limiter)
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let pool = pools[ObjectIdentifier(channel.eventLoop)]?.value else {
                        throw ChannelError.inappropriateOperationForState
                    }
                    try Self.configureClientPipeline(channel, context: context, connections: pool)
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        boundPort.withLock { $0 = channel.localAddress?.port }
        logger.info("proxy listening", metadata: ["address": "\(configuration.host):\(channel.localAddress?.port ?? 0)"])

        let finished = group.next().makePromise(of: Void.self)
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
            // Bounded: in-flight requests get the grace period, then everything is closed.
            let grace = group.next().scheduleTask(in: .nanoseconds(configuration.shutdownGrace.nanoseconds)) {
                finished.succeed()
            }
            try await finished.futureResult.get()
            grace.cancel()
        } onGracefulShutdown: { [logger] in
            logger.info("proxy shutting down: finishing in-flight requests")
            quiesce.initiateShutdown(promise: finished)
        }
    }
}
