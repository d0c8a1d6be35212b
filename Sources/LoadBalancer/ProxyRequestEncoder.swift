import NIOCore
import NIOHTTP1

/// Encodes requests to a backend, as their headers say, in place of NIO's `HTTPRequestEncoder`:
/// one exactly sized buffer per head (NIO's grows its buffer once per head). Sits before the
/// response decoder, which watches the request parts go by to learn each request's method.
final class ProxyRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    private var chunked = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            chunked = head.headers.contains(name: "transfer-encoding")
            let method = head.method.rawValue
            var buffer = context.channel.allocator.buffer(
                capacity: method.utf8.count + head.uri.utf8.count + 11 + ByteBuffer.wireSize(of: head.headers) + 2)
            buffer.writeString(method)
            buffer.writeStaticString(" ")
            buffer.writeString(head.uri)
            buffer.writeStaticString(" ")
            buffer.writeVersion(head.version)
            buffer.writeStaticString("\r\n")
            buffer.writeHeaders(head.headers)
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        case .body(let body):
            ChunkedFraming.writeBody(body, chunked: chunked, context: context, promise: promise)
        case .end(let trailers):
            ChunkedFraming.writeEnd(trailers, chunked: chunked, context: context, promise: promise)
            chunked = false
        }
    }
}
