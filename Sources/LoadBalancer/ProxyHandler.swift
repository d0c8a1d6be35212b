import NIOCore
import NIOHTTP1

/// Proxies one client connection's requests, one at a time (NIO's pipelining handler queues the
/// next one until this one's response ended), to backends picked from the pool. Confined to the
/// client channel's event loop, as are the backend connections it uses.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = Never
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let context: ProxyContext
    private let connections: BackendConnectionPool
    private let limits: RequestLimitsHandler
    private var channelContext: ChannelHandlerContext?
    private var exchange: Exchange?
    /// Set while the rest of a refused request's body is read and dropped.
    private var discarding = false

    /// One request on its way through the proxy.
    private struct Exchange {
        var head: HTTPRequestHead
        var backend: Backend
        var connection: BackendConnection?
        /// Body parts received while connecting; kept for a retry only while the request has none.
        var pending: [HTTPClientRequestPart] = []
        var bodyBytes = 0
        var sentBody = false
        var requestEnded = false
        var responseStarted = false
        var keepAlive: Bool
        var retried = false
        var timeout: Scheduled<Void>?
    }

    init(context: ProxyContext, connections: BackendConnectionPool, limits: RequestLimitsHandler) {
        self.context = context
        self.connections = connections
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        channelContext = nil
    }

    // MARK: Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            begin(head, context: context)
        case .body(let buffer):
            if discarding { return }
            guard var exchange else { return }
            exchange.bodyBytes += buffer.readableBytes
            if let limit = self.context.configuration.maxBodyBytes, exchange.bodyBytes > limit {
                self.exchange = exchange
                fail(.payloadTooLarge, "request body larger than \(limit) bytes", close: true)
                return
            }
            forward(.body(.byteBuffer(buffer)), in: &exchange)
            self.exchange = exchange
        case .end(let trailers):
            if discarding {
                discarding = false
                return
            }
            guard var exchange else { return }
            exchange.requestEnded = true
            forward(.end(trailers), in: &exchange)
            self.exchange = exchange
        }
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
            finish(success: false)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
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
        var head = original
        head.uri = Self.originForm(head.uri)
        guard let backend = self.context.pool.pick() else {
            respondError(.serviceUnavailable, "no backend available", keepAlive: false)
            discarding = true
            return
        }
        let exchange = Exchange(head: head, backend: backend, keepAlive: original.isKeepAlive)
        start(exchange, on: backend)
    }

    /// Connects (or reuses a connection) to `backend` and sends what the request has so far.
    private func start(_ exchange: Exchange, on backend: Backend) {
        var exchange = exchange
        exchange.backend = backend
        backend.requests.add(1, ordering: .relaxed)
        backend.inFlight.add(1, ordering: .relaxed)
        self.exchange = exchange
        let requestHead = forwardedHead(exchange.head, to: backend)
        connections.acquire(backend).whenComplete { [self] result in
            guard var current = self.exchange, current.backend === backend, current.connection == nil else {
                if case .success(let connection) = result { connection.channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let connection):
                current.connection = connection
                connection.handler.delegate = self
                let channel = connection.channel
                _ = channel.setOption(.autoRead, value: channelContext?.channel.isWritable ?? true)
                channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
                for part in current.pending {
                    if case .body = part { current.sentBody = true }
                    channel.write(part, promise: nil)
                }
                current.pending = []
                channel.flush()
                current.timeout = channel.eventLoop.scheduleTask(in: .nanoseconds(self.context.configuration.responseTimeout.nanoseconds)) {
                    [weak self] in self?.responseTimedOut()
                }
                self.exchange = current
            case .failure:
                self.exchange = current
                backendFailed()
            }
        }
    }

    private func forward(_ part: HTTPClientRequestPart, in exchange: inout Exchange) {
        if let connection = exchange.connection {
            if case .body = part { exchange.sentBody = true }
            connection.channel.write(part, promise: nil)
            if case .end = part { connection.channel.flush() }
        } else {
            exchange.pending.append(part)
        }
    }

    // MARK: Backend side

    func backendRead(_ part: HTTPClientResponsePart) {
        guard var exchange, let context = channelContext else { return }
        switch part {
        case .head(let response):
            exchange.responseStarted = true
            exchange.timeout?.cancel()
            exchange.timeout = nil
            var head = HTTPResponseHead(version: exchange.head.version, status: response.status, headers: response.headers)
            Self.removeHopByHop(&head.headers)
            let framed = head.headers.contains(name: "content-length") || response.status.code < 200
                || response.status == .noContent || response.status == .notModified || exchange.head.method == .HEAD
            if exchange.head.version.minor == 0 {
                head.headers.remove(name: "transfer-encoding")
                if !framed { exchange.keepAlive = false }
                if exchange.keepAlive { head.headers.replaceOrAdd(name: "connection", value: "keep-alive") }
            } else if response.headers.contains(name: "transfer-encoding") {
                head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            }
            if !exchange.keepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
            self.exchange = exchange
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let buffer):
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            let keepAlive = exchange.keepAlive
            let reusable = exchange.requestEnded
            let connection = exchange.connection
            finish(success: true)
            if let connection {
                if reusable { connections.release(connection) } else { connection.channel.close(promise: nil) }
            }
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
                limits.responseFinished()
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(trailers))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    func backendReadComplete() {
        channelContext?.flush()
    }

    func backendWritabilityChanged(_ writable: Bool) {
        // Backpressure: stop reading the client while the backend cannot take more.
        _ = channelContext?.channel.setOption(.autoRead, value: writable)
    }

    func backendClosed() {
        guard let exchange else { return }
        if exchange.responseStarted {
            // Cut off mid-response: nothing can be said to the client any more.
            exchange.backend.failures.add(1, ordering: .relaxed)
            finish(success: false)
            channelContext?.close(promise: nil)
        } else {
            backendFailed()
        }
    }

    /// The backend failed before any response byte: retry once elsewhere when that is safe, else 502.
    private func backendFailed() {
        guard var exchange else { return }
        exchange.timeout?.cancel()
        exchange.connection?.handler.delegate = nil
        exchange.connection = nil
        let backend = exchange.backend
        backend.failures.add(1, ordering: .relaxed)
        backend.inFlight.add(-1, ordering: .relaxed)
        _ = backend.recordCheck(passed: false, rise: context.configuration.health.rise, fall: context.configuration.health.fall, immediate: true)
        if !exchange.retried, !exchange.sentBody, exchange.pending.allSatisfy({ if case .body = $0 { false } else { true } }),
            Self.isIdempotent(exchange.head.method), let next = context.pool.pick(excluding: backend)
        {
            exchange.retried = true
            exchange.connection = nil
            start(exchange, on: next)
            return
        }
        self.exchange = nil
        respondError(.badGateway, "backend \(backend.name) failed", keepAlive: exchange.requestEnded && exchange.keepAlive)
        if !exchange.requestEnded { discarding = true }
    }

    private func responseTimedOut() {
        guard let exchange, !exchange.responseStarted else { return }
        exchange.connection?.handler.delegate = nil
        exchange.connection?.channel.close(promise: nil)
        exchange.backend.failures.add(1, ordering: .relaxed)
        finish(success: false)
        respondError(.gatewayTimeout, "backend \(exchange.backend.name) did not answer in time", keepAlive: false)
    }

    private func finish(success: Bool) {
        guard let exchange else { return }
        exchange.timeout?.cancel()
        exchange.connection?.handler.delegate = nil
        exchange.backend.inFlight.add(-1, ordering: .relaxed)
        self.exchange = nil
    }

    /// Ends the current request with an error (the exchange, if any, is already finished).
    private func fail(_ status: HTTPResponseStatus, _ message: String, close: Bool) {
        if let exchange {
            exchange.connection?.channel.close(promise: nil)
            finish(success: false)
        }
        respondError(status, message, keepAlive: !close)
        discarding = true
    }

    private func respondError(_ status: HTTPResponseStatus, _ message: String, keepAlive: Bool) {
        guard let context = channelContext else { return }
        let body = #"{"error":"\#(message)"}"# + "\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            limits.responseFinished()
        } else {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: Headers

    /// The head sent to the backend: origin-form target, no hop-by-hop headers, forwarding headers.
    private func forwardedHead(_ head: HTTPRequestHead, to backend: Backend) -> HTTPRequestHead {
        var forwarded = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: head.headers)
        let chunked = head.headers[canonicalForm: "transfer-encoding"].contains("chunked")
        Self.removeHopByHop(&forwarded.headers)
        if chunked { forwarded.headers.add(name: "Transfer-Encoding", value: "chunked") }
        let client = channelContext?.channel.remoteAddress?.ipAddress ?? "unknown"
        if let existing = forwarded.headers.first(name: "X-Forwarded-For") {
            forwarded.headers.replaceOrAdd(name: "X-Forwarded-For", value: "\(existing), \(client)")
        } else {
            forwarded.headers.add(name: "X-Forwarded-For", value: client)
        }
        forwarded.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        if !forwarded.headers.contains(name: "host") { forwarded.headers.add(name: "Host", value: backend.endpoint.description) }
        return forwarded
    }

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authorization",
    ]

    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        let named = headers[canonicalForm: "connection"].map { $0.lowercased() }
        for name in hopByHop { headers.remove(name: name) }
        for name in named where !name.isEmpty { headers.remove(name: String(name)) }
    }

    /// `http://host/path?q` → `/path?q`: an absolute-form target is served from the pool like any other.
    static func originForm(_ uri: String) -> String {
        guard uri.hasPrefix("http://") || uri.hasPrefix("https://") else { return uri }
        guard let scheme = uri.range(of: "://") else { return uri }
        let afterScheme = uri[scheme.upperBound...]
        guard let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let rest = afterScheme[slash...]
        return rest.hasPrefix("?") ? "/" + rest : String(rest)
    }

    static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }
}
