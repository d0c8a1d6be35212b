import HTTP1Wire
import NIOCore

/// Receives a backend's response, decodes it and hands it to the client side; confined to one
/// event loop. The only handler on a backend connection: the proxy writes requests as bytes.
final class BackendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The client-side handler of the exchange in progress; nil while idle in the pool.
    weak var delegate: ProxyHandler?
    /// Set once the connection is made; unowned to avoid a cycle through the connection.
    weak var connection: BackendConnection?
    /// Told by the proxy, before each request, whether it is a `HEAD` (its answer has no body).
    var decoder = HTTP1Decoder(kind: .response)
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes request bytes from this handler's place in the pipeline (the proxy's writes need
    /// not walk it from the tail).
    func write(_ buffer: ByteBuffer) {
        if let context {
            context.write(wrapOutboundOut(buffer), promise: nil)
        } else {
            connection?.channel.write(buffer, promise: nil)
        }
    }

    func flush() {
        if let context { context.flush() } else { connection?.channel.flush() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.receive(unwrapInboundIn(data))
        while true {
            let event: HTTP1Decoder.Event?
            do {
                event = try decoder.next()
            } catch {
                // Not HTTP, or broken framing: the exchange fails when the close arrives.
                delegate?.backendErrored()
                context.close(promise: nil)
                return
            }
            guard let event else { break }
            guard let delegate else {
                // Data on an idle connection: the backend is confused; do not reuse it.
                context.close(promise: nil)
                return
            }
            delegate.backendRead(event)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.backendReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.backendWritabilityChanged(context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The close ends a body that ends with it; inside any other, the answer was cut short.
        do {
            if let event = try decoder.finish() { delegate?.backendRead(event) }
        } catch {
            delegate?.backendErrored()
        }
        if let connection, connection.isIdle { connection.pool.forget(connection) }
        delegate?.backendClosed()
        delegate = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        delegate?.backendErrored()
        context.close(promise: nil)
    }
}
