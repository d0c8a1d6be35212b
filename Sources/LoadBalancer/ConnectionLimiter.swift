import NIOCore

/// On the listening channel: closes new connections beyond the cap at once, so that a flood of
/// connections cannot exhaust file descriptors or memory.
final class ConnectionLimiter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let proxy: ProxyContext
    private var counters: ProxyContext.Counters { proxy.counters }

    init(context: ProxyContext) {
        self.proxy = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        // Read at each connection: a reload may change it.
        let limit = proxy.configuration.maxConnections
        let open = counters.connections.wrappingAdd(1, ordering: .relaxed).newValue
        child.closeFuture.whenComplete { [counters] _ in counters.connections.wrappingSubtract(1, ordering: .relaxed) }
        guard open <= limit else {
            counters.refusedConnections.wrappingAdd(1, ordering: .relaxed)
            child.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
