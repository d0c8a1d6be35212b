import NIOCore
import NIOHTTP1

/// Proxies one client connection's requests, one at a time, to backends picked from the pool.
/// Confined to the client channel's event loop, as are the backend connections it uses.
///
/// Pipelined requests wait in ``queued`` until the response before them ended, so answers go out
/// in order. This replaces NIO's pipelining handler, which stops and restarts reading around every
/// request: two `epoll_ctl` calls per request, a third of the proxy's system calls.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = Never
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let context: ProxyContext
    let connections: BackendConnectionPool
    let limits: RequestLimitsHandler
    let encoder: ProxyResponseEncoder
    var channelContext: ChannelHandlerContext?
    var exchange: ProxyExchange?
    /// The client's address for `X-Forwarded-For`, formatted once per connection.
    private(set) var clientAddress = "unknown"
    /// The backend response deadline of the exchange in progress.
    var responseTimer = DeadlineTimer()
    /// Set while the rest of a refused request's body is read and dropped.
    var discarding = false
    /// A malformed request was answered; the connection is closing.
    var discardingAfterError = false
    /// Parts of requests that arrived while an earlier one was still being answered.
    var queued = CircularBuffer<HTTPServerRequestPart>()
    /// Graceful shutdown asked this connection to finish its current request and close.
    var quiescing = false
    /// How many queued parts make the proxy stop reading the client until it catches up.
    private static let queueLimit = 256

    init(context: ProxyContext, connections: BackendConnectionPool, limits: RequestLimitsHandler, encoder: ProxyResponseEncoder) {
        self.context = context
        self.encoder = encoder
        self.connections = connections
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
        responseTimer.fire = { [weak self] in self?.responseTimerFired() }
        clientAddress = context.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        responseTimer.cancel()
        channelContext = nil
    }

    // MARK: Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !queued.isEmpty || waitingForResponse {
            queued.append(part)
            if queued.count == Self.queueLimit { _ = context.channel.setOption(.autoRead, value: false) }
            return
        }
        handle(part, context: context)
    }

    /// The current request was read completely and its answer has not ended yet.
    private var waitingForResponse: Bool {
        exchange?.requestEnded ?? false
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            begin(head, context: context)
        case .body(let buffer):
            if discarding { return }
            guard let exchange else { return }
            exchange.bodyBytes += buffer.readableBytes
            if let limit = self.context.configuration.maxBodyBytes, exchange.bodyBytes > limit {
                fail(.payloadTooLarge, "request body larger than \(limit) bytes", close: true)
                return
            }
            forward(.body(.byteBuffer(buffer)), in: exchange)
        case .end(let trailers):
            if discarding {
                discarding = false
                return
            }
            guard let exchange else { return }
            exchange.requestEnded = true
            forward(.end(trailers), in: exchange)
        }
    }

    /// Works through queued pipelined requests after a response ended.
    func resumeQueued() {
        guard let context = channelContext else { return }
        if quiescing && exchange == nil {
            context.close(promise: nil)
            return
        }
        let wasFull = queued.count >= Self.queueLimit
        while !waitingForResponse, let part = queued.popFirst() {
            handle(part, context: context)
        }
        if wasFull && queued.count < Self.queueLimit { _ = context.channel.setOption(.autoRead, value: true) }
        exchange?.connection?.channel.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if exchange == nil && queued.isEmpty { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.connection?.channel.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Backpressure: stop reading the backend while the client cannot take more.
        _ = exchange?.connection?.channel.setOption(.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            // The client went away mid-exchange: the backend connection is in an unknown state.
            exchange.connection?.handler.delegate = nil
            exchange.connection?.channel.close(promise: nil)
            finish()
        }
        context.fireChannelInactive()
    }

    /// A request the decoder rejects gets a `400` unless its response already started; then the
    /// connection closes. (In place of NIO's protocol error handler: one handler less on every
    /// request's way in and out.)
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError, !(exchange?.responseStarted ?? false), !discardingAfterError else {
            context.close(promise: nil)
            return
        }
        discardingAfterError = true
        if waitingForResponse || !queued.isEmpty {
            // A later pipelined request is malformed: answer the earlier ones, then close.
            quiescing = true
            return
        }
        fail(.badRequest, "malformed request: \(error)", close: true)
    }

    private func begin(_ original: HTTPRequestHead, context: ChannelHandlerContext) {
        limits.headReceived()
        self.context.counters.requests.add(1, ordering: .relaxed)
        let configuration = self.context.configuration
        if original.uri.utf8.count > configuration.maxRequestLineBytes {
            respondError(.uriTooLong, "request target longer than \(configuration.maxRequestLineBytes) bytes", keepAlive: false)
            discarding = true
            return
        }
        if original.headers.reduce(0, { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }) > configuration.maxHeaderBytes {
            respondError(.requestHeaderFieldsTooLarge, "request headers larger than \(configuration.maxHeaderBytes) bytes", keepAlive: false)
            discarding = true
            return
        }
        if let length = original.headers.first(name: "content-length").flatMap(Int.init), let limit = configuration.maxBodyBytes,
            length > limit
        {
            respondError(.payloadTooLarge, "request body larger than \(limit) bytes", keepAlive: false)
            discarding = true
            return
        }
        if original.method == .CONNECT {
            respondError(.methodNotAllowed, "CONNECT is not supported: this is not a forward proxy", keepAlive: false)
            discarding = true
            return
        }
        guard let backend = self.context.pool.pick() else {
            respondError(.serviceUnavailable, "no backend available", keepAlive: false)
            discarding = true
            return
        }
        let exchange = ProxyExchange(
            head: forwardedHead(original, to: backend), method: original.method, clientVersion: original.version, backend: backend,
            keepAlive: original.isKeepAlive, startedAt: .now())
        start(exchange, on: backend)
    }

    /// Connects (or reuses a connection) to `backend` and sends what the request has so far.
    func start(_ exchange: ProxyExchange, on backend: Backend, freshConnection: Bool = false) {
        exchange.backend = backend
        backend.requests.add(1, ordering: .relaxed)
        backend.inFlight.add(1, ordering: .relaxed)
        self.exchange = exchange
        exchange.reused = false
        if !freshConnection, let connection = connections.takeIdle(backend) {
            exchange.reused = true
            connected(connection)
            return
        }
        // On the client's own event loop: the callback may use the handler's state directly.
        connections.connect(backend).assumeIsolated().whenComplete { [self] result in
            guard let current = self.exchange, current.backend === backend, current.connection == nil else {
                if case .success(let connection) = result { connection.channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let connection):
                connected(connection)
            case .failure:
                backendFailed()
            }
        }
    }

    /// Sends the head and what the client sent so far, and starts the response deadline.
    private func connected(_ connection: BackendConnection) {
        guard let current = exchange else { return }
        current.connection = connection
        connection.handler.delegate = self
        let channel = connection.channel
        if let client = channelContext?.channel, !client.isWritable { _ = channel.setOption(.autoRead, value: false) }
        channel.write(HTTPClientRequestPart.head(current.head), promise: nil)
        for part in current.pending {
            if case .body = part { current.sentBody = true }
            channel.write(part, promise: nil)
        }
        current.pending = []
        channel.flush()
        responseTimer.set(.now() + .nanoseconds(context.configuration.responseTimeout.nanoseconds), on: channel.eventLoop)
    }

    private func responseTimerFired() {
        guard let loop = channelContext?.eventLoop,
            responseTimer.hasPassed(on: loop)
        else { return }
        responseTimedOut()
    }

    private func forward(_ part: HTTPClientRequestPart, in exchange: ProxyExchange) {
        if let connection = exchange.connection {
            if case .body = part { exchange.sentBody = true }
            connection.channel.write(part, promise: nil)
            if case .end = part { connection.channel.flush() }
        } else {
            exchange.pending.append(part)
        }
    }

    /// Ends the current request with an error (the exchange, if any, is already finished).
    private func fail(_ status: HTTPResponseStatus, _ message: String, close: Bool) {
        if let exchange, exchange.responseStarted {
            // The backend's answer is under way: no second head can follow; the cut says it.
            let connection = exchange.connection
            finish()
            connection?.channel.close(promise: nil)
            channelContext?.close(promise: nil)
            return
        }
        if let exchange {
            // Detached before the close: closing calls back `backendClosed`, which would answer 502.
            let connection = exchange.connection
            finish()
            connection?.channel.close(promise: nil)
        }
        discarding = true
        respondError(status, message, keepAlive: !close)
    }

    func respondError(_ status: HTTPResponseStatus, _ message: String, keepAlive: Bool) {
        guard let context = channelContext else { return }
        let body = Self.errorBody(message)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            limits.responseFinished()
            resumeQueued()
        } else {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
