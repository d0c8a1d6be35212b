import HTTP1Wire
import NIOCore
import NIOHTTP1

/// Proxies one client connection's requests, one at a time, to backends picked from the pool.
/// Confined to the client channel's event loop, as are the backend connections it uses.
///
/// What happens on each event is decided by a ``ProxyStateMachine``; this handler feeds it the
/// events and carries out its actions: writes, the backend connection pool, timers, counters.
/// It decodes requests itself (``HTTP1Decoder``, no handler in between and no header strings) and
/// encodes its responses itself (``ProxyResponseEncoder``), as it knows the framing of each.
///
/// Pipelined requests wait in ``queued`` until the response before them ended, so answers go out
/// in order. This replaces NIO's pipelining handler, which stops and restarts reading around every
/// request: two `epoll_ctl` calls per request, a third of the proxy's system calls.
final class ProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundOut = IOData

    let context: ProxyContext
    /// The settings as the connection opened (a reload applies to later connections).
    let configuration: LoadBalancer.Configuration
    let connections: BackendConnectionPool
    /// The connection's time limits (slowloris, idle).
    let limits: RequestLimits
    var encoder = ProxyResponseEncoder()
    var machine = ProxyStateMachine()
    var channelContext: ChannelHandlerContext?
    /// `X-Forwarded-Proto`: https when the proxy serves TLS.
    var scheme: String { configuration.tls == nil ? "http" : "https" }
    /// The client's address for `X-Forwarded-For`, formatted once per connection.
    private(set) var clientAddress = "unknown"
    /// What ends every head forwarded as received: the forwarding fields for this client.
    private var forwardingSuffix = ByteBuffer()
    /// The backend response deadline of the exchange in progress.
    var responseTimer = DeadlineTimer()
    var decoder = HTTP1Decoder(kind: .request)
    /// The decoder refused the client's bytes: nothing more is decoded.
    private var decodeFailed = false
    /// Parts of requests that arrived while an earlier one was still being answered.
    var queued = CircularBuffer<HTTP1Decoder.Event>()
    /// How many queued parts make the proxy stop reading the client until it catches up.
    private static let queueLimit = 256

    init(context: ProxyContext, connections: BackendConnectionPool) {
        self.context = context
        let settings = context.configuration
        self.configuration = settings
        self.connections = connections
        self.limits = RequestLimits(configuration: settings)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
        limits.attach(context)
        responseTimer.fire = { [weak self] in self?.responseTimerFired() }
        clientAddress = context.channel.remoteAddress?.ipAddress ?? "unknown"
        forwardingSuffix = context.channel.allocator.buffer(string: "X-Forwarded-For: \(clientAddress)\r\nX-Forwarded-Proto: \(scheme)\r\n\r\n")
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        limits.detach()
        responseTimer.cancel()
        channelContext = nil
    }

    // MARK: Client side

    func channelActive(context: ChannelHandlerContext) {
        limits.channelActive()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        limits.bytesReceived()
        guard !decodeFailed else { return }
        decoder.receive(unwrapInboundIn(data))
        while !decodeFailed {
            let event: HTTP1Decoder.Event?
            do {
                event = try decoder.next()
            } catch {
                decodeFailed = true
                clientError(isParseError: true, message: "malformed request: \(error)", context: context)
                return
            }
            guard let event else { break }
            receive(event, context: context)
        }
    }

    private func receive(_ part: HTTP1Decoder.Event, context: ChannelHandlerContext) {
        if !queued.isEmpty || machine.isWaitingForResponse {
            queued.append(part)
            if queued.count == Self.queueLimit { _ = context.channel.setOption(.autoRead, value: false) }
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTP1Decoder.Event, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if machine.canBegin() { begin(head, context: context) }
        case .body(let buffer):
            perform(machine.requestBody(buffer, maxBodyBytes: self.configuration.maxBodyBytes))
        case .end(let trailers):
            perform(machine.requestEnd(trailers))
        }
    }

    private func perform(_ action: ProxyStateMachine.ClientPartAction) {
        switch action {
        case .ignore, .hold:
            break
        case .forward(let part, let connection, let flush):
            send(part, on: connection, chunked: machine.exchange?.chunked ?? false)
            if flush { connection.handler.flush() }
        case .fail(let failure):
            perform(failure)
        }
    }

    /// Writes a request body part to a backend, chunk-framed when the request is chunked.
    func send(_ part: HTTPClientRequestPart, on connection: BackendConnection, chunked: Bool) {
        let handler = connection.handler
        let allocator = connection.channel.allocator
        switch part {
        case .head:
            preconditionFailure("heads go as bytes")
        case .body(let body):
            guard case .byteBuffer(let buffer) = body else { preconditionFailure("the decoder gives buffers") }
            ChunkedFraming.writeBody(buffer, chunked: chunked, allocator: allocator, promise: nil) { buffer, _ in handler.write(buffer) }
        case .end(let trailers):
            ChunkedFraming.writeEnd(trailers, chunked: chunked, allocator: allocator, promise: nil) { buffer, _ in handler.write(buffer) }
        }
    }

    /// Works through queued pipelined requests after a response ended.
    func resumeQueued() {
        guard let context = channelContext else { return }
        if machine.shouldCloseWhenIdle(hasQueued: !queued.isEmpty) {
            context.close(promise: nil)
            return
        }
        let wasFull = queued.count >= Self.queueLimit
        while !machine.isWaitingForResponse, !machine.isClosing, let part = queued.popFirst() {
            handle(part, context: context)
        }
        if wasFull && queued.count < Self.queueLimit { _ = context.channel.setOption(.autoRead, value: true) }
        machine.exchange?.connection?.handler.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            if machine.quiesce(hasQueued: !queued.isEmpty) { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        machine.exchange?.connection?.handler.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Backpressure: stop reading the backend while the client cannot take more.
        _ = machine.exchange?.connection?.channel.setOption(.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        limits.detach()
        if let (exchange, connection) = machine.clientClosed() {
            // The client went away mid-exchange: the backend connection is in an unknown state.
            finish(exchange)
            connection?.channel.close(promise: nil)
        }
        context.fireChannelInactive()
    }

    /// A connection error (a reset) closes the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        clientError(isParseError: false, message: "\(error)", context: context)
    }

    /// A request the decoder rejects gets a `400` unless its response already started; then the
    /// connection closes. (In place of NIO's protocol error handler: one handler less on every
    /// request's way in and out.)
    private func clientError(isParseError: Bool, message: String, context: ChannelHandlerContext) {
        switch machine.clientError(isParseError: isParseError, hasQueued: !queued.isEmpty, message: message) {
        case .ignore:
            break
        case .close:
            context.close(promise: nil)
        case .closeAfterQueued:
            break
        case .fail(let failure):
            perform(failure)
        }
    }

    private func begin(_ original: HTTP1Head, context: ChannelHandlerContext) {
        limits.headReceived()
        self.context.counters.requests.add(1, ordering: .relaxed)
        if let (status, message) = refusal(of: original) {
            machine.refuse()
            respondError(status, message, keepAlive: false)
            return
        }
        guard let backend = self.context.pool.pick() else {
            machine.refuse()
            respondError(.serviceUnavailable, "no backend available", keepAlive: false)
            return
        }
        let forwarded = Self.forwardedHead(
            original, client: clientAddress, scheme: scheme, suffix: forwardingSuffix, to: backend, allocator: context.channel.allocator)
        let exchange = ProxyExchange(
            head: forwarded.head, headSuffix: forwarded.suffix,
            chunked: original.hasTransferEncoding, method: original.method, clientVersion: original.version, backend: backend,
            keepAlive: original.isKeepAlive, startedAt: .now())
        machine.begin(exchange)
        start(exchange, on: backend)
    }

    /// Why the proxy answers a request itself instead of forwarding it, if it does.
    private func refusal(of head: HTTP1Head) -> (HTTPResponseStatus, String)? {
        if head.targetRange.count > configuration.maxRequestLineBytes {
            return (.uriTooLong, "request target longer than \(configuration.maxRequestLineBytes) bytes")
        }
        if head.fieldsWireSize > configuration.maxHeaderBytes {
            return (.requestHeaderFieldsTooLarge, "request headers larger than \(configuration.maxHeaderBytes) bytes")
        }
        if let length = head.contentLength, let limit = configuration.maxBodyBytes, length > limit {
            return (.payloadTooLarge, "request body larger than \(limit) bytes")
        }
        if head.method == .CONNECT { return (.methodNotAllowed, "CONNECT is not supported: this is not a forward proxy") }
        return nil
    }

    /// Connects (or reuses a connection) to `backend` for `exchange`, which is connecting.
    func start(_ exchange: ProxyExchange, on backend: Backend, freshConnection: Bool = false) {
        exchange.backend = backend
        backend.requests.add(1, ordering: .relaxed)
        backend.inFlight.add(1, ordering: .relaxed)
        if !freshConnection, let connection = connections.takeIdle(backend) {
            exchange.reused = true
            connected(connection, for: exchange)
            return
        }
        // On the client's own event loop: the callback may use the handler's state directly.
        connections.connect(backend).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let connection):
                connected(connection, for: exchange)
            case .failure:
                if machine.exchange === exchange, case .connecting = exchange.link, exchange.backend === backend { backendFailed(exchange) }
            }
        }
    }

    /// Sends the head and what the client sent so far, and starts the response deadline.
    private func connected(_ connection: BackendConnection, for exchange: ProxyExchange) {
        switch machine.connected(connection, for: exchange) {
        case .close(let stale):
            stale.channel.close(promise: nil)
        case .send(let head, let parts, let connection):
            connection.handler.delegate = self
            connection.handler.decoder.respondingToHEAD = exchange.method == .HEAD
            let channel = connection.channel
            if let client = channelContext?.channel, !client.isWritable { _ = channel.setOption(.autoRead, value: false) }
            connection.handler.write(head)
            if let suffix = exchange.headSuffix { connection.handler.write(suffix) }
            for part in parts { send(part, on: connection, chunked: exchange.chunked) }
            connection.handler.flush()
            restartResponseDeadline()
        }
    }

    func restartResponseDeadline() {
        guard let loop = channelContext?.eventLoop else { return }
        responseTimer.set(.now() + .nanoseconds(configuration.responseTimeout.nanoseconds), on: loop)
    }

    private func responseTimerFired() {
        guard let loop = channelContext?.eventLoop, responseTimer.hasPassed(on: loop) else { return }
        guard let failure = machine.responseTimedOut() else { return }
        machine.exchange?.backend.failures.add(1, ordering: .relaxed)
        perform(failure)
    }

    /// Carries out a failed exchange: the backend connection closed (detached first: closing it
    /// calls back), the exchange's books closed, the error answer or the cut.
    func perform(_ failure: ProxyStateMachine.Failure) {
        switch failure {
        case .answer(let status, let message, let exchange, let connection, let keepAlive):
            if let exchange { finish(exchange) }
            connection?.channel.close(promise: nil)
            respondError(status, message, keepAlive: keepAlive)
        case .cut(let exchange, let connection):
            finish(exchange)
            connection?.channel.close(promise: nil)
            // Flushed first: the parts decoded at a backend's close were never followed by a
            // read-complete.
            channelContext?.flush()
            channelContext?.close(promise: nil)
        }
    }

    /// Closes an exchange's books: its duration, its deadline, its backend's in-flight count, and
    /// its connection's tie to this handler.
    func finish(_ exchange: ProxyExchange) {
        context.durations.record(nanoseconds: exchange.elapsedNanoseconds)
        responseTimer.clear()
        exchange.connection?.handler.delegate = nil
        exchange.link = .none
        exchange.backend.inFlight.add(-1, ordering: .relaxed)
    }

    func respondError(_ status: HTTPResponseStatus, _ message: String, keepAlive: Bool) {
        guard let context = channelContext else { return }
        let body = Self.errorBody(message)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = encoder.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers), bodyAllowed: true, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(string: body))))
        encoder.ended()
        if keepAlive {
            limits.responseFinished()
            resumeQueued()
        } else {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
