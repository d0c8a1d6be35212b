/// Why ``HTTP1Decoder`` refused a message. The proxy answers every one of them the same way (`400`
/// to a client, `502` for a backend); the cases say what was wrong, for logs and tests.
public enum HTTP1Error: Error, Equatable, Sendable {
    /// Not one of the methods NIOHTTP1's decoder (llhttp) knows.
    case invalidMethod
    /// An empty request target, or a byte that may not appear in one.
    case invalidTarget
    /// Not `HTTP/1.0` or `HTTP/1.1`.
    case invalidVersion
    case invalidStatus
    /// A start line or field line that does not have the shape RFC 9112 gives it.
    case invalidStartLine
    /// A field name that is not a token, or whitespace before its colon (RFC 9112 5.1).
    case invalidHeaderName
    /// A control character in a field value (a bare CR among them).
    case invalidHeaderValue
    /// A field line continued on the next line (obs-fold, RFC 9112 5.2).
    case obsoleteLineFolding
    /// A line that ends in LF without CR, or CR without LF.
    case invalidLineEnding
    case invalidContentLength
    /// Two `Content-Length` fields, or `Content-Length` with `Transfer-Encoding` (RFC 9112 6.3).
    case conflictingFraming
    /// A request whose `Transfer-Encoding` does not end in `chunked` (RFC 9112 6.3 rule 4).
    case invalidTransferEncoding
    case invalidChunkSize
    /// A chunk's data not followed by CRLF.
    case invalidChunkEnd
    /// A head or trailer section larger than the decoder's limit.
    case headTooLarge
    /// Bytes after a message that closes the connection (`Connection: close`, or HTTP/1.0
    /// without keep-alive): llhttp refuses them, and so does the proxy.
    case dataAfterClose
    /// The connection ended inside a message.
    case truncated
}
