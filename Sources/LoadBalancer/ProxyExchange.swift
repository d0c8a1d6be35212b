import NIOCore
import NIOHTTP1

/// One request on its way through the proxy; a class, so that the hot path mutates it in place
/// instead of copying it (and retaining everything in it) on every part. Its progress is three
/// small state enums, changed only by ``ProxyStateMachine``.
final class ProxyExchange {
    /// How far the client's request got.
    enum Request: Equatable {
        /// Body parts may still come.
        case streaming
        /// The client sent all of it.
        case ended
    }

    /// How far the backend's response got.
    enum Response: Equatable {
        /// Nothing final yet (interim `1xx` answers do not count): a failure can still be retried
        /// or answered with an error of the proxy's own.
        case waiting
        /// The final head went to the client; `framing` says how its body ends.
        case streaming(ResponseFraming)
    }

    /// The backend connection of this exchange.
    enum Link {
        /// Being made; parts of the request wait in ``pending``.
        case connecting
        case connected(BackendConnection)
        /// Failed or given up; a retry may make a new one.
        case none
    }

    /// The head's bytes as sent to backends (origin-form target, forwarding headers), made once:
    /// a retry resends them as they are.
    let head: ByteBuffer
    /// Sent after ``head`` when it is the client's head as received: the forwarding fields.
    let headSuffix: ByteBuffer?
    /// The body goes to the backend in chunks (the client sent it so).
    let chunked: Bool
    let method: HTTPMethod
    let clientVersion: HTTPVersion
    var backend: Backend
    var request = Request.streaming
    var response = Response.waiting
    var link = Link.connecting
    /// Body parts received while connecting, kept for a retry only while no body was sent.
    var pending: [HTTPClientRequestPart] = []
    var bodyBytes = 0
    /// Some of the request body went to a backend: the request cannot be retried any more.
    var sentBody = false
    /// The client connection stays open after this exchange.
    var keepAlive: Bool
    /// The backend connection can serve another request after this response: its end was known
    /// without a close, and it did not say `Connection: close`.
    var backendReusable = true
    /// The backend connection reported an error (a reset): a close that follows is no clean end.
    var backendErrored = false
    /// The connection came from the idle pool: if it fails before any answer, the backend most
    /// likely closed it while idle (its keep-alive timeout), which says nothing about its health.
    var reused = false
    /// A stale pooled connection was already replaced once (separate from the one real retry).
    var replacedStale = false
    /// The one retry on another backend was used.
    var retried = false

    /// When the request head arrived, for the duration histogram.
    let startedAt: NIODeadline

    /// Time since the request head arrived.
    var elapsedNanoseconds: Int64 { (NIODeadline.now() - startedAt).nanoseconds }

    /// The backend connection, when connected.
    var connection: BackendConnection? {
        if case .connected(let connection) = link { connection } else { nil }
    }

    var responseStarted: Bool { response != .waiting }

    init(
        head: ByteBuffer, headSuffix: ByteBuffer?, chunked: Bool, method: HTTPMethod, clientVersion: HTTPVersion, backend: Backend, keepAlive: Bool,
        startedAt: NIODeadline
    ) {
        self.startedAt = startedAt
        self.head = head
        self.headSuffix = headSuffix
        self.chunked = chunked
        self.method = method
        self.clientVersion = clientVersion
        self.backend = backend
        self.keepAlive = keepAlive
    }
}
