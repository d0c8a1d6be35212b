import NIOCore
import NIOHTTP1

/// Receives a backend's response and hands it to the client side; confined to one event loop.
final class BackendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// The client-side handler of the exchange in progress; nil while idle in the pool.
    weak var delegate: ProxyHandler?
    /// Set once the connection is made; unowned to avoid a cycle through the connection.
    weak var connection: BackendConnection?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let delegate {
            delegate.backendRead(part)
        } else {
            // Data on an idle connection: the backend is confused; do not reuse it.
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.backendReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.backendWritabilityChanged(context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection, connection.isIdle { connection.pool.forget(connection) }
        delegate?.backendClosed()
        delegate = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        delegate?.backendErrored()
        context.close(promise: nil)
    }
}
