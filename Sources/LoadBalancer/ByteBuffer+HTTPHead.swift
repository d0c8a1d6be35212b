import NIOCore
import NIOHTTP1

/// Serialising heads for the proxy's own encoders: sized up front, so one allocation per head.
///
/// No validation here: every name and value passed through llhttp on its way in (which refuses
/// CR, LF and NUL in them), and the proxy adds only values it formats itself.
extension ByteBuffer {
    /// Bytes that `headers` take on the wire, each `name: value\r\n`.
    static func wireSize(of headers: HTTPHeaders) -> Int {
        var size = 0
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        return size
    }

    /// Writes `headers` and the blank line that ends a head.
    mutating func writeHeaders(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            writeString(name)
            writeStaticString(": ")
            writeString(value)
            writeStaticString("\r\n")
        }
        writeStaticString("\r\n")
    }

    mutating func writeVersion(_ version: HTTPVersion) {
        switch (version.major, version.minor) {
        case (1, 1): writeStaticString("HTTP/1.1")
        case (1, 0): writeStaticString("HTTP/1.0")
        default: writeString("HTTP/\(version.major).\(version.minor)")
        }
    }

    /// A status code's digits, without a string in between.
    mutating func writeStatusCode(_ code: UInt) {
        guard (100...999).contains(code) else {
            writeString(String(code))
            return
        }
        writeInteger(UInt8(ascii: "0") + UInt8(code / 100))
        writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
    }

    /// The line that starts a chunk of `size` bytes.
    mutating func writeChunkHeader(_ size: Int) {
        writeString(String(size, radix: 16))
        writeStaticString("\r\n")
    }
}

/// Chunked transfer coding of body parts, for both directions: `write` sends a buffer on.
enum ChunkedFraming {
    /// Writes one body part, chunk-framed when `chunked`.
    static func writeBody(
        _ body: ByteBuffer, chunked: Bool, allocator: ByteBufferAllocator, promise: EventLoopPromise<Void>?,
        write: (ByteBuffer, EventLoopPromise<Void>?) -> Void
    ) {
        guard chunked else {
            write(body, promise)
            return
        }
        let size = body.readableBytes
        guard size > 0 else {
            promise?.succeed()
            return
        }
        var header = allocator.buffer(capacity: 10)
        header.writeChunkHeader(size)
        write(header, nil)
        write(body, nil)
        write(crlf, promise)
    }

    /// Ends a message: the last chunk and trailers when `chunked`, else nothing.
    static func writeEnd(
        _ trailers: HTTPHeaders?, chunked: Bool, allocator: ByteBufferAllocator, promise: EventLoopPromise<Void>?,
        write: (ByteBuffer, EventLoopPromise<Void>?) -> Void
    ) {
        guard chunked else {
            // Nothing to send; a promise still completes after the writes before it.
            if let promise { write(ByteBuffer(), promise) }
            return
        }
        var end = allocator.buffer(capacity: 5 + (trailers.map(ByteBuffer.wireSize(of:)) ?? 0))
        end.writeStaticString("0\r\n")
        if let trailers { end.writeHeaders(trailers) } else { end.writeStaticString("\r\n") }
        write(end, promise)
    }

    /// Client side: through the proxy handler's context.
    static func writeBody(_ body: ByteBuffer, chunked: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        writeBody(body, chunked: chunked, allocator: context.channel.allocator, promise: promise) { context.write(NIOAny(IOData.byteBuffer($0)), promise: $1) }
    }

    static func writeEnd(_ trailers: HTTPHeaders?, chunked: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        writeEnd(trailers, chunked: chunked, allocator: context.channel.allocator, promise: promise) { context.write(NIOAny(IOData.byteBuffer($0)), promise: $1) }
    }

    private static let crlf = ByteBuffer(staticString: "\r\n")
}
