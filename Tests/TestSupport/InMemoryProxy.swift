import AutoscalerAPI
import LoadBalancer
import NIOCore
import NIOEmbedded
import Prometheus

/// The proxy's real handlers over in-memory channels on one embedded event loop: a client
/// connection, and backend connections made on demand (or pooled beforehand). Bytes go in and come
/// out exactly as on sockets, with no kernel, ports or timing: each step runs to completion.
public final class InMemoryProxy {
    public let loop = EmbeddedEventLoop()
    public let pool = BackendPool()
    public let client: EmbeddedChannel
    let connections: BackendConnectionPool
    /// Every backend connection made, oldest first, with its backend's name.
    public private(set) var backendChannels: [(backend: String, channel: EmbeddedChannel)] = []
    /// Backends whose new connections are refused.
    public var refusing: Set<String> = []

    /// A proxy over backends `web_vm1` … `web_vm<backends>`.
    public init(backends: Int = 1, configure: (inout LoadBalancer.Configuration) -> Void = { _ in }) throws {
        var configuration = LoadBalancer.Configuration()
        configure(&configuration)
        for index in 1...max(backends, 1) where index <= backends {
            pool.upsert(name: "web_vm\(index)", endpoint: Endpoint(host: "127.0.0.1", port: 18080 + index), healthy: true)
        }
        let context = ProxyContext(
            configuration: configuration, pool: pool, durations: RequestDurations(registry: PrometheusCollectorRegistry()))
        connections = BackendConnectionPool(eventLoop: loop, connectTimeout: .seconds(1), maxIdlePerBackend: 8)
        client = EmbeddedChannel(loop: loop)
        connections.connector = { [unowned self] backend in
            guard !refusing.contains(backend.name) else {
                // Refused a moment later, as a socket is: after the rest of what was read.
                let refused = loop.makePromise(of: BackendConnection.self)
                loop.execute { refused.fail(ChannelError.connectTimeout(.seconds(1))) }
                return refused.futureResult
            }
            let made = loop.makePromise(of: BackendConnection.self)
            do {
                made.assumeIsolated().succeed(try connections.connection(over: try newChannel(for: backend), to: backend))
            } catch {
                made.fail(error)
            }
            return made.futureResult
        }
        try ProxyServer.configureClientPipeline(client, context: context, connections: connections)
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
    }

    private func newChannel(for backend: Backend) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: backend.endpoint.port)).wait()
        backendChannels.append((backend.name, channel))
        return channel
    }

    /// Puts an idle keep-alive connection to `backend` in the pool, as an earlier request would
    /// have left it; returns its channel.
    @discardableResult
    public func pooledConnection(to backend: String) throws -> EmbeddedChannel {
        let target = try pool.backend(named: backend).orThrow("no backend \(backend)")
        let channel = try newChannel(for: target)
        try connections.adopt(channel, for: target)
        return channel
    }

    /// The client sends bytes.
    public func send(_ text: String) throws {
        try client.writeInbound(ByteBuffer(string: text))
        loop.run()
    }

    /// What the proxy wrote to the client since the last call.
    public func received() throws -> String {
        loop.run()
        var text = ""
        while let part = try client.readOutbound(as: IOData.self) { text += Self.string(part) }
        return text
    }

    /// What the proxy wrote to `channel` (a backend connection) since the last call.
    public func forwarded(on channel: EmbeddedChannel) throws -> String {
        loop.run()
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) { text += Self.string(part) }
        return text
    }

    /// The backend on `channel` answers bytes.
    public func answer(on channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        loop.run()
    }

    /// The backend on `channel` closes its connection.
    public func close(_ channel: EmbeddedChannel) throws {
        try? channel.close().wait()
        loop.run()
    }

    /// Whether the proxy closed the client connection.
    public var clientClosed: Bool { !client.isActive }

    private static func string(_ data: IOData) -> String {
        switch data {
        case .byteBuffer(let buffer): String(buffer: buffer)
        case .fileRegion: "<file>"
        }
    }
}
