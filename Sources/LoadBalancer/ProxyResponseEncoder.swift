import NIOCore
import NIOHTTP1

/// Encodes the responses ``ProxyHandler`` writes, as its headers say, in place of NIO's
/// `HTTPResponseEncoder`.
///
/// The proxy already sets the framing headers it wants (it knows the request method, the client's
/// version and the backend's framing), so this encoder only serialises: one exactly sized buffer
/// per head, no header edits. NIO's encoder re-frames every head it is given, which copies the
/// header list on every response; measured, it was a fifth of the proxy's allocations.
final class ProxyResponseEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    /// Set by ``ProxyHandler`` before each head: false for answers to HEAD and for statuses
    /// without a body, whose `Transfer-Encoding` describes a body that is not sent.
    var bodyAllowed = true
    private var chunked = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            let code = head.status.code
            let allowed = bodyAllowed && code >= 200 && code != 204 && code != 304
            chunked = allowed && head.headers.contains(name: "transfer-encoding")
            let reason = head.status.reasonPhrase
            var buffer = context.channel.allocator.buffer(
                capacity: 15 + reason.utf8.count + ByteBuffer.wireSize(of: head.headers) + 2)
            buffer.writeVersion(head.version)
            buffer.writeStaticString(" ")
            buffer.writeStatusCode(code)
            buffer.writeStaticString(" ")
            buffer.writeString(reason)
            buffer.writeStaticString("\r\n")
            buffer.writeHeaders(head.headers)
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        case .body(let body):
            ChunkedFraming.writeBody(body, chunked: chunked, context: context, promise: promise)
        case .end(let trailers):
            ChunkedFraming.writeEnd(trailers, chunked: chunked, context: context, promise: promise)
            chunked = false
            bodyAllowed = true
        }
    }
}
