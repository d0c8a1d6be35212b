import HTTP1Wire
import NIOHTTP1

/// How a backend's response body is delimited (RFC 9112 6.3), as far as the proxy cares: whether
/// the client can be told where it ends, and whether the backend connection can carry another
/// request after it.
enum ResponseFraming: Equatable {
    /// No body, whatever the headers say: `204`, `304`, an answer to `HEAD`.
    case none
    case length
    /// `Transfer-Encoding: chunked` (with `Content-Length` too, the decoder refuses the answer,
    /// which becomes a 502: such a message is a smuggling attempt or a broken server, RFC 9112 6.3).
    case chunked
    /// Neither (or a `Transfer-Encoding` without `chunked`): the body ends when the backend closes
    /// the connection.
    case untilClose

    init(_ head: HTTP1Head, method: HTTPMethod) {
        let code = head.status
        if code == 204 || code == 304 || method == .HEAD {
            self = .none
            return
        }
        if head.hasTransferEncoding {
            self = head.chunked ? .chunked : .untilClose
        } else if head.contentLength != nil {
            self = .length
        } else {
            self = .untilClose
        }
    }

    /// The backend connection is in a known state once the body ended.
    var isReusable: Bool { self != .untilClose }

    /// An HTTP/1.0 client can find the end without a close (chunked framing is not sent to it).
    var hasLengthForHTTP10: Bool { self == .none || self == .length }
}
