import NIOCore
import NIOHTTP1
import NIOPosix

/// Idle keep-alive connections to backends, for one event loop; confined to that loop.
///
/// A connection made on the client's own loop never hops threads: both sides of a proxied request
/// run on one loop, with no locks and no context switches.
package final class BackendConnectionPool {
    let eventLoop: any EventLoop
    let connectTimeout: TimeAmount
    let maxIdlePerBackend: Int
    /// Idle connections per backend, as objects so that taking and returning one changes the
    /// stack in place (an array value in a dictionary is copied on every change).
    private var idle: [ObjectIdentifier: IdleStack] = [:]
    /// Makes new connections in place of TCP (in-memory channels in tests); nil: TCP.
    package var connector: ((Backend) -> EventLoopFuture<BackendConnection>)?

    private final class IdleStack {
        var connections: [BackendConnection] = []
    }

    package init(eventLoop: any EventLoop, connectTimeout: TimeAmount, maxIdlePerBackend: Int) {
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.maxIdlePerBackend = maxIdlePerBackend
    }

    /// An idle connection to `backend`, if one is open: the common case, without a future.
    func takeIdle(_ backend: Backend) -> BackendConnection? {
        eventLoop.assertInEventLoop()
        guard let stack = idle[ObjectIdentifier(backend)] else { return nil }
        while let connection = stack.connections.popLast() {
            if connection.channel.isActive {
                connection.isIdle = false
                return connection
            }
        }
        return nil
    }

    /// A new connection to `backend`.
    func connect(_ backend: Backend) -> EventLoopFuture<BackendConnection> {
        if let connector { return connector(backend) }
        let handler = BackendHandler()
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try Self.configureBackendPipeline(channel, handler: handler) }
            }
            .connect(to: backend)
            .map { channel in BackendConnection(channel: channel, handler: handler, backend: backend, pool: self) }
    }

    /// The handlers of one backend connection: just the one that decodes responses and passes
    /// them to the client side (requests are written as bytes, encoded by the proxy).
    static func configureBackendPipeline(_ channel: any Channel, handler: BackendHandler) throws {
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    /// Puts an already connected channel into the pool as an idle connection to `backend` (for
    /// benchmarks over in-memory channels).
    package func adopt(_ channel: any Channel, for backend: Backend) throws {
        release(try connection(over: channel, to: backend))
    }

    /// A backend connection over an already connected channel (for tests and benchmarks).
    package func connection(over channel: any Channel, to backend: Backend) throws -> BackendConnection {
        let handler = BackendHandler()
        try Self.configureBackendPipeline(channel, handler: handler)
        return BackendConnection(channel: channel, handler: handler, backend: backend, pool: self)
    }

    /// Returns a connection after a complete exchange; closes it when the pool for its backend is
    /// full or the backend no longer takes requests.
    func release(_ connection: BackendConnection) {
        eventLoop.assertInEventLoop()
        connection.handler.delegate = nil
        guard connection.channel.isActive, connection.backend.state == .active else {
            connection.channel.close(promise: nil)
            return
        }
        let key = ObjectIdentifier(connection.backend)
        let stack: IdleStack
        if let existing = idle[key] {
            stack = existing
        } else {
            stack = IdleStack()
            idle[key] = stack
        }
        guard stack.connections.count < maxIdlePerBackend else {
            connection.channel.close(promise: nil)
            return
        }
        connection.isIdle = true
        stack.connections.append(connection)
    }

    /// Forgets an idle connection that closed by itself.
    func forget(_ connection: BackendConnection) {
        let key = ObjectIdentifier(connection.backend)
        idle[key]?.connections.removeAll { $0 === connection }
    }

    /// Closes every idle connection to `backend` (it is being removed).
    func closeIdle(to backend: Backend) {
        eventLoop.assertInEventLoop()
        let connections = idle.removeValue(forKey: ObjectIdentifier(backend))?.connections ?? []
        for connection in connections { connection.channel.close(promise: nil) }
    }

    /// Closes everything (shutdown).
    func closeAll() {
        let all = idle.values.flatMap { $0.connections }
        idle = [:]
        for connection in all { connection.channel.close(promise: nil) }
    }
}

/// One connection to a backend: its channel, its handler, and whether it sits idle in a pool.
package final class BackendConnection {
    let channel: any Channel
    let handler: BackendHandler
    let backend: Backend
    unowned let pool: BackendConnectionPool
    var isIdle = false

    init(channel: any Channel, handler: BackendHandler, backend: Backend, pool: BackendConnectionPool) {
        self.channel = channel
        self.handler = handler
        self.backend = backend
        self.pool = pool
        handler.connection = self
    }
}
