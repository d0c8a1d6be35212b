import NIOCore
import NIOHTTP1

/// One request on its way through the proxy; a class, so that the hot path mutates it in place
/// instead of copying it (and retaining everything in it) on every part.
final class ProxyExchange {
    /// The head as sent to backends (origin-form target, forwarding headers), made once: a retry
    /// resends it as is.
    let head: HTTPRequestHead
    let method: HTTPMethod
    let clientVersion: HTTPVersion
    var backend: Backend
    var connection: BackendConnection?
    /// Body parts received while connecting; kept for a retry only while the request has none.
    var pending: [HTTPClientRequestPart] = []
    var bodyBytes = 0
    var sentBody = false
    var requestEnded = false
    var responseStarted = false
    var keepAlive: Bool
    /// The backend connection may serve another request after this response: it was not ended by
    /// a close, nor framed two ways, nor marked `Connection: close`.
    var backendReusable = true
    /// The body has neither length nor chunks: it ends when the backend closes.
    var bodyEndsWithClose = false
    /// The backend connection reported an error (a reset): a close that follows is no clean end.
    var backendErrored = false
    var retried = false
    /// The connection came from the idle pool: if it fails before any answer, the backend most
    /// likely closed it while idle (its keep-alive timeout), which says nothing about its health.
    var reused = false
    /// A stale pooled connection was already replaced once (separate from the one real retry).
    var replacedStale = false

    /// When the request head arrived, for the duration histogram.
    let startedAt: NIODeadline

    /// Time since the request head arrived.
    var elapsedNanoseconds: Int64 { (NIODeadline.now() - startedAt).nanoseconds }

    init(
        head: HTTPRequestHead, method: HTTPMethod, clientVersion: HTTPVersion, backend: Backend, keepAlive: Bool,
        startedAt: NIODeadline
    ) {
        self.startedAt = startedAt
        self.head = head
        self.method = method
        self.clientVersion = clientVersion
        self.backend = backend
        self.keepAlive = keepAlive
    }
}
