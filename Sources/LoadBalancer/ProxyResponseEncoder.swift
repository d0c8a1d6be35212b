import HTTP1Wire
import NIOCore
import NIOHTTP1

/// Encodes the responses ``ProxyHandler`` sends, as their headers say: a value inside the handler,
/// not a handler of its own (the proxy knows each response's framing; a separate encoder had to be
/// told by setting flags on it).
///
/// A backend's head is written from its received bytes, with the edits the proxy makes (its
/// version, hop-by-hop fields, framing, `Connection`): one exactly sized buffer, no header strings.
struct ProxyResponseEncoder {
    /// The body of the response being written goes in chunks.
    private var chunked = false

    /// What the proxy changes in a backend's head on its way to the client.
    struct Edits {
        /// Drop hop-by-hop fields and those `Connection` names.
        var dropHopByHop = false
        /// Drop `Transfer-Encoding` (an HTTP/1.0 client).
        var dropTransferEncoding = false
        /// Replace `Transfer-Encoding` with `chunked`, or add it.
        var chunked = false
        /// Replace `Connection` with this.
        var connection: StaticString?
    }

    /// A backend's head as the client gets it. `bodyAllowed` is false for answers to HEAD: their
    /// `Transfer-Encoding` describes a body that is not sent (as for `1xx`, `204` and `304`).
    mutating func head(
        forwarding head: HTTP1Head, version: HTTPVersion, edits: Edits, bodyAllowed: Bool, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let code = head.status
        let allowed = bodyAllowed && code >= 200 && code != 204 && code != 304
        if !head.isInterim { chunked = allowed && edits.chunked }
        let reason = HTTPResponseStatus(statusCode: code).reasonPhrase
        if head.startLineIsCanonical, head.version == version, head.fieldBlock != nil, !edits.dropHopByHop, !edits.chunked,
            edits.connection == nil, !(edits.dropTransferEncoding && head.contains(.transferEncoding)), head.reasonEquals(reason)
        {
            // Nothing to change (the common case): the head as received, without a copy.
            return head.bytes
        }
        var buffer = allocator.buffer(capacity: 15 + reason.utf8.count + head.fieldsWireSize + 32 + 24 + 2)
        buffer.writeVersion(version)
        buffer.writeStaticString(" ")
        buffer.writeStatusCode(UInt(code))
        buffer.writeStaticString(" ")
        buffer.writeString(reason)
        buffer.writeStaticString("\r\n")
        let dropsTransferEncoding = (edits.dropTransferEncoding || edits.chunked) && head.contains(.transferEncoding)
        let dropsConnection = edits.connection != nil && head.contains(.connection)
        if let block = head.fieldBlock, !edits.dropHopByHop, !dropsTransferEncoding, !dropsConnection {
            // Nothing to drop (the common case): the fields as received, in one copy.
            head.write(block, to: &buffer)
        } else {
            for field in head.fields {
                if edits.dropHopByHop && (field.kind.isHopByHop || head.isNamedByConnection(field)) { continue }
                if dropsTransferEncoding, field.kind == .transferEncoding { continue }
                if dropsConnection, field.kind == .connection { continue }
                head.writeField(field, to: &buffer)
            }
        }
        if edits.chunked { buffer.writeStaticString("transfer-encoding: chunked\r\n") }
        if let connection = edits.connection {
            buffer.writeStaticString("connection: ")
            buffer.writeStaticString(connection)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The head's bytes of an answer of the proxy's own. `bodyAllowed` as above.
    mutating func head(_ head: HTTPResponseHead, bodyAllowed: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        let code = head.status.code
        let allowed = bodyAllowed && code >= 200 && code != 204 && code != 304
        if code >= 200 { chunked = allowed && head.headers.contains(name: "transfer-encoding") }
        let reason = head.status.reasonPhrase
        var buffer = allocator.buffer(capacity: 15 + reason.utf8.count + ByteBuffer.wireSize(of: head.headers) + 2)
        buffer.writeVersion(head.version)
        buffer.writeStaticString(" ")
        buffer.writeStatusCode(code)
        buffer.writeStaticString(" ")
        buffer.writeString(reason)
        buffer.writeStaticString("\r\n")
        buffer.writeHeaders(head.headers)
        return buffer
    }

    /// Writes one body part, chunk-framed when the head said so.
    func body(_ body: ByteBuffer, context: ChannelHandlerContext) {
        ChunkedFraming.writeBody(body, chunked: chunked, context: context, promise: nil)
    }

    /// Writes the end (the last chunk and trailers when chunked, else nothing) and is ready for
    /// the next response.
    mutating func end(_ trailers: HTTPHeaders?, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        ChunkedFraming.writeEnd(trailers, chunked: chunked, context: context, promise: promise)
        chunked = false
    }

    /// A response written whole by other means (the proxy's own errors) ended.
    mutating func ended() {
        chunked = false
    }
}
