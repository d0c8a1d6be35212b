import HTTP1Wire
import NIOCore
import NIOHTTP1

/// The states of one client connection of the proxy and the moves between them, in the manner of
/// AsyncHTTPClient's `HTTP1ConnectionStateMachine`: ``ProxyHandler`` reports each event (a
/// request part, a backend connection made or lost, a response part, a time-out) and carries out
/// the action the transition returns. The machine touches no channel, timer or counter, so every
/// path (pipelining, HEAD, interim answers, a stale pooled connection, close-delimited bodies,
/// truncations) is tested without sockets.
struct ProxyStateMachine {
    enum State {
        /// Between requests.
        case idle
        /// A request on its way through a backend (its own progress is in the exchange).
        case exchanging(ProxyExchange)
        /// A last answer is on its way out, or the connection is closed: nothing more is read.
        case closing
    }

    private(set) var state = State.idle
    /// Graceful shutdown asked the connection to finish its current request and close.
    private(set) var quiescing = false
    /// A malformed request followed the queued ones: answer those, then close.
    private(set) var closingAfterQueue = false

    /// The exchange in progress.
    var exchange: ProxyExchange? {
        if case .exchanging(let exchange) = state { exchange } else { nil }
    }

    /// A part that arrives now waits in the pipelining queue: the request before it was read
    /// whole and its answer has not ended.
    var isWaitingForResponse: Bool { exchange?.request == .ended }

    var isClosing: Bool {
        if case .closing = state { true } else { false }
    }

    // MARK: Client side

    /// A request head arrived: whether it can be served (the handler checks it and picks a
    /// backend, then calls ``begin(_:)`` or ``refuse()``).
    func canBegin() -> Bool {
        if case .idle = state { true } else { false }
    }

    /// The head passed its checks and has a backend: the exchange starts connecting.
    mutating func begin(_ exchange: ProxyExchange) {
        guard case .idle = state else { preconditionFailure("a request began during another") }
        exchange.link = .connecting
        state = .exchanging(exchange)
    }

    /// The proxy answers this request itself (an error) and closes the connection after it.
    mutating func refuse() {
        state = .closing
    }

    enum ClientPartAction {
        /// Nothing to do: the part belongs to a request answered already.
        case ignore
        /// Kept in the exchange until its connection is made.
        case hold
        case forward(HTTPClientRequestPart, to: BackendConnection, flush: Bool)
        /// The request failed (see ``Failure``).
        case fail(Failure)
    }

    /// How an exchange ends badly.
    enum Failure {
        /// Answer with a status of the proxy's own, after closing `backend` (if any);
        /// `keepAlive` says whether the client connection goes on after it.
        case answer(HTTPResponseStatus, String, exchange: ProxyExchange?, closing: BackendConnection?, keepAlive: Bool)
        /// The backend's answer had begun: close the client connection without the end of the
        /// framing, so that the client sees the truncation.
        case cut(exchange: ProxyExchange, closing: BackendConnection?)
    }

    mutating func requestBody(_ buffer: ByteBuffer, maxBodyBytes: Int?) -> ClientPartAction {
        guard let exchange else { return .ignore }
        exchange.bodyBytes += buffer.readableBytes
        if let maxBodyBytes, exchange.bodyBytes > maxBodyBytes {
            return .fail(fail(exchange, .payloadTooLarge, "request body larger than \(maxBodyBytes) bytes"))
        }
        return forward(.body(.byteBuffer(buffer)), in: exchange)
    }

    mutating func requestEnd(_ trailers: HTTPHeaders?) -> ClientPartAction {
        guard let exchange, exchange.request == .streaming else { return .ignore }
        exchange.request = .ended
        return forward(.end(trailers), in: exchange)
    }

    private func forward(_ part: HTTPClientRequestPart, in exchange: ProxyExchange) -> ClientPartAction {
        guard case .connected(let connection) = exchange.link else {
            exchange.pending.append(part)
            return .hold
        }
        if case .body = part { exchange.sentBody = true }
        if case .end = part { return .forward(part, to: connection, flush: true) }
        return .forward(part, to: connection, flush: false)
    }

    /// Ends `exchange` with an error status, or cuts the connection when the answer had begun;
    /// the connection closes after it.
    private mutating func fail(_ exchange: ProxyExchange, _ status: HTTPResponseStatus, _ message: String) -> Failure {
        let connection = exchange.connection
        state = .closing
        if exchange.responseStarted { return .cut(exchange: exchange, closing: connection) }
        return .answer(status, message, exchange: exchange, closing: connection, keepAlive: false)
    }

    enum ClientErrorAction {
        /// Nothing to do: the connection is closing already.
        case ignore
        /// Close at once (an exchange in progress is finished when the close arrives).
        case close
        /// Answer the requests before it, then close.
        case closeAfterQueued
        case fail(Failure)
    }

    /// The request decoder refused the client's bytes.
    mutating func clientError(isParseError: Bool, hasQueued: Bool, message: String = "malformed request") -> ClientErrorAction {
        if isClosing { return .ignore }
        if !isParseError || exchange?.responseStarted == true {
            // The exchange, if any, stays: `clientClosed()` ends it when the close arrives.
            if exchange == nil { state = .closing }
            return .close
        }
        if isWaitingForResponse || hasQueued {
            // A later pipelined request is malformed: the earlier ones are answered first.
            closingAfterQueue = true
            return .closeAfterQueued
        }
        if let exchange { return .fail(fail(exchange, .badRequest, message)) }
        state = .closing
        return .fail(.answer(.badRequest, message, exchange: nil, closing: nil, keepAlive: false))
    }

    /// The client went away; returns the exchange it abandoned and its backend connection, whose
    /// state is unknown now (it must be closed).
    mutating func clientClosed() -> (ProxyExchange, BackendConnection?)? {
        defer { state = .closing }
        guard let exchange else { return nil }
        return (exchange, exchange.connection)
    }

    /// Graceful shutdown: true when the connection can close at once (nothing in progress).
    mutating func quiesce(hasQueued: Bool) -> Bool {
        quiescing = true
        if case .idle = state, !hasQueued { return true }
        return false
    }

    // MARK: Backend side

    enum ConnectedAction {
        /// Send the head's bytes and the parts that waited.
        case send(ByteBuffer, [HTTPClientRequestPart], on: BackendConnection)
        /// The exchange is gone or has another connection: close this one.
        case close(BackendConnection)
    }

    mutating func connected(_ connection: BackendConnection, for candidate: ProxyExchange) -> ConnectedAction {
        guard let exchange, exchange === candidate, case .connecting = exchange.link, exchange.backend === connection.backend else {
            return .close(connection)
        }
        exchange.link = .connected(connection)
        var parts = exchange.pending
        exchange.pending = []
        if parts.contains(where: { if case .body = $0 { true } else { false } }) { exchange.sentBody = true }
        // A retry after the first connection took the end: send it again.
        if exchange.request == .ended, !parts.contains(where: { if case .end = $0 { true } else { false } }) { parts.append(.end(nil)) }
        return .send(exchange.head, parts, on: connection)
    }

    enum BackendFailureAction {
        /// A stale pooled connection: try a new connection to the same backend.
        case reconnect(ProxyExchange)
        /// Try another backend (at most once); ``giveUp()`` when there is none.
        case retryElsewhere(ProxyExchange)
        case fail(Failure)
        case ignore
    }

    /// The backend connection failed or closed (refused, reset, closed, garbage): before the final
    /// answer a retry or a 502, during it a cut. `countsAgainstBackend` in the result: false for a
    /// stale pooled connection.
    mutating func backendFailed(_ candidate: ProxyExchange? = nil) -> (action: BackendFailureAction, countsAgainstBackend: Bool) {
        guard let exchange, candidate == nil || exchange === candidate else { return (.ignore, false) }
        if exchange.responseStarted {
            return (.fail(fail(exchange, .badGateway, "")), true)
        }
        exchange.link = .none
        let stale = exchange.reused
        let bodyUnsent = !exchange.sentBody && !exchange.pending.contains { if case .body = $0 { true } else { false } }
        if bodyUnsent, exchange.method.isIdempotent {
            exchange.backendErrored = false
            if stale && !exchange.replacedStale {
                exchange.replacedStale = true
                exchange.reused = false
                exchange.link = .connecting
                return (.reconnect(exchange), false)
            }
            if !exchange.retried {
                exchange.retried = true
                exchange.reused = false
                exchange.link = .connecting
                return (.retryElsewhere(exchange), !stale)
            }
        }
        return (.fail(giveUp()), !stale)
    }

    /// No backend to retry on, or the retry is spent: 502; the connection goes on when the
    /// request was read whole and the client keeps it alive.
    mutating func giveUp() -> Failure {
        guard let exchange else { return .answer(.badGateway, "no backend", exchange: nil, closing: nil, keepAlive: false) }
        let keepAlive = exchange.request == .ended && exchange.keepAlive && !quiescing
        state = keepAlive ? .idle : .closing
        exchange.link = .none
        return .answer(.badGateway, "backend \(exchange.backend.name) failed", exchange: exchange, closing: nil, keepAlive: keepAlive)
    }

    /// The backend did not answer within the response time-out.
    mutating func responseTimedOut() -> Failure? {
        guard let exchange, !exchange.responseStarted else { return nil }
        return fail(exchange, .gatewayTimeout, "backend \(exchange.backend.name) did not answer in time")
    }

    enum ResponseHeadAction {
        case ignore
        /// An interim answer: forward it (to an HTTP/1.1 client) or drop it; either way the
        /// response deadline starts again.
        case interim(forward: Bool)
        /// A `101` nobody asked for (`Upgrade` is not forwarded): close the backend connection,
        /// which fails the exchange.
        case closeBackend(BackendConnection)
        /// The final head: send it on, framed for the client as `framing` and `keepAlive` say.
        case head(ResponseFraming, keepAlive: Bool, bodyAllowed: Bool)
    }

    /// `hasQueued`: more requests wait in the pipelining queue.
    mutating func responseHead(_ head: HTTP1Head, hasQueued: Bool) -> ResponseHeadAction {
        guard let exchange, exchange.response == .waiting else { return .ignore }
        if head.isInterim {
            if head.status == 101, let connection = exchange.connection { return .closeBackend(connection) }
            return .interim(forward: exchange.clientVersion.minor >= 1)
        }
        let framing = ResponseFraming(head, method: exchange.method)
        exchange.response = .streaming(framing)
        exchange.backendReusable = head.isKeepAlive && framing.isReusable
        if quiescing || (closingAfterQueue && !hasQueued) { exchange.keepAlive = false }
        // No chunked framing in HTTP/1.0: a body without a length ends with the connection.
        if exchange.clientVersion.minor == 0 && !framing.hasLengthForHTTP10 { exchange.keepAlive = false }
        return .head(framing, keepAlive: exchange.keepAlive, bodyAllowed: exchange.method != .HEAD)
    }

    /// A backend connection reported an error; a close follows.
    mutating func backendErrored() {
        exchange?.backendErrored = true
    }

    enum ResponseEndAction {
        case ignore
        /// The answer ended: write its end; the backend connection goes back to the pool
        /// (`release`) or is closed (`close`); then the next queued request (`keepAlive`) or
        /// the connection's close.
        case end(HTTPHeaders?, exchange: ProxyExchange, release: BackendConnection?, close: BackendConnection?, keepAlive: Bool)
        case fail(Failure)
    }

    mutating func responseEnd(_ trailers: HTTPHeaders?) -> ResponseEndAction {
        guard let exchange, case .streaming(let framing) = exchange.response else { return .ignore }
        // The decoder ends a close-delimited body at any close, a reset too: that one is a cut.
        if framing == .untilClose && exchange.backendErrored { return .fail(fail(exchange, .badGateway, "")) }
        let connection = exchange.connection
        let reusable = exchange.request == .ended && exchange.backendReusable
        let keepAlive = exchange.keepAlive
        state = keepAlive ? .idle : .closing
        return .end(
            trailers, exchange: exchange, release: reusable ? connection : nil, close: reusable ? nil : connection, keepAlive: keepAlive)
    }

    /// After an answer with keep-alive: close now (graceful shutdown, or a malformed request
    /// after the queue, with nothing in progress).
    func shouldCloseWhenIdle(hasQueued: Bool) -> Bool {
        guard case .idle = state else { return false }
        return quiescing || (closingAfterQueue && !hasQueued)
    }
}
