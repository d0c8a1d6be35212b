import NIOCore
import NIOHTTP1

/// The backend half of an exchange: the response coming back, and what happens when the backend
/// fails, closes or does not answer in time. Runs on the client's event loop, like the rest.
extension ProxyHandler {
    func backendRead(_ part: HTTPClientResponsePart) {
        guard let exchange, let context = channelContext else { return }
        switch part {
        case .head(let response) where response.status.code < 200:
            forwardInterim(response, exchange: exchange, context: context)
        case .head(let response):
            exchange.responseStarted = true
            if quiescing { exchange.keepAlive = false }
            responseTimer.clear()
            // Changed only where needed: an untouched head is passed on without a copy.
            var head = response
            if head.version != exchange.clientVersion { head.version = exchange.clientVersion }
            if Self.needsHopByHopRemoval(head.headers) { Self.removeHopByHop(&head.headers) }
            let framing = ResponseFraming(response, method: exchange.method)
            // A backend connection is kept only when its next answer can be told from this one.
            exchange.backendReusable = response.isKeepAlive && framing.isReusable
            exchange.bodyEndsWithClose = framing == .untilClose
            if exchange.clientVersion.minor == 0 {
                // No chunked framing in HTTP/1.0: a body without a length ends with the connection.
                head.headers.remove(name: "transfer-encoding")
                if !framing.hasLengthForHTTP10 { exchange.keepAlive = false }
                if exchange.keepAlive { head.headers.replaceOrAdd(name: "connection", value: "keep-alive") }
            } else if framing == .chunked || (framing == .none && response.headers.contains(name: "transfer-encoding")) {
                // Chunked on; an answer to HEAD keeps saying what a GET would get.
                head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            } else if framing == .untilClose && exchange.keepAlive {
                // The backend ends this body by closing (RFC 9112 6.3 rule 8). Sent on as is, the
                // client would wait for a close that a kept-alive connection never makes; chunked,
                // it sees the end when the backend closes and keeps its connection (HAProxy and
                // nginx do the same for HTTP/1.1 clients).
                head.headers.add(name: "transfer-encoding", value: "chunked")
            }
            if !exchange.keepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
            encoder.bodyAllowed = exchange.method != .HEAD
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let buffer):
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end where exchange.bodyEndsWithClose && exchange.backendErrored:
            // The decoder ends a close-delimited body at any close, a reset too: that one is a cut.
            truncate(exchange)
        case .end(let trailers):
            let keepAlive = exchange.keepAlive
            let reusable = exchange.requestEnded && exchange.backendReusable
            let connection = exchange.connection
            finish()
            if let connection {
                if reusable { connections.release(connection) } else { connection.channel.close(promise: nil) }
            }
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
                limits.responseFinished()
                resumeQueued()
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(trailers))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    /// An interim answer (`100 Continue`, `103 Early Hints`) goes to an HTTP/1.1 client at once;
    /// the exchange goes on waiting for the final one. HTTP/1.0 clients cannot take them (RFC 9110
    /// 15.2). A `101` is never asked for (`Upgrade` is not forwarded), so it is a broken answer.
    private func forwardInterim(_ response: HTTPResponseHead, exchange: ProxyExchange, context: ChannelHandlerContext) {
        guard response.status != .switchingProtocols else {
            exchange.connection?.channel.close(promise: nil)
            return
        }
        // The backend is alive and working on it: the response deadline starts again.
        responseTimer.set(.now() + .nanoseconds(self.context.configuration.responseTimeout.nanoseconds), on: context.eventLoop)
        guard exchange.clientVersion.minor >= 1 else { return }
        var head = response
        if head.version != exchange.clientVersion { head.version = exchange.clientVersion }
        if Self.needsHopByHopRemoval(head.headers) { Self.removeHopByHop(&head.headers) }
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
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
            // Cut off mid-response (a close-delimited body ended before this, with `.end`).
            truncate(exchange)
        } else {
            backendFailed()
        }
    }

    /// The backend's connection failed (a reset, a parse error); its close follows.
    func backendErrored() {
        exchange?.backendErrored = true
    }

    /// The response was cut off after it started: the client gets what came and then a close
    /// without the end of the framing (short of the Content-Length, or no last chunk), so it sees
    /// the truncation; nothing else can be said to it any more.
    private func truncate(_ exchange: ProxyExchange) {
        exchange.backend.failures.add(1, ordering: .relaxed)
        let connection = exchange.connection
        finish()
        connection?.channel.close(promise: nil)
        // Flushed first: the parts decoded at the close were never followed by a read-complete.
        channelContext?.flush()
        channelContext?.close(promise: nil)
    }

    /// The backend failed before any response byte: retry once elsewhere when that is safe, else 502.
    func backendFailed() {
        guard let exchange else { return }
        exchange.connection?.handler.delegate = nil
        exchange.connection = nil
        let backend = exchange.backend
        let stale = exchange.reused
        backend.inFlight.add(-1, ordering: .relaxed)
        if !stale {
            backend.failures.add(1, ordering: .relaxed)
            _ = backend.recordCheck(
                passed: false, rise: context.configuration.health.rise, fall: context.configuration.health.fall, immediate: true)
        }
        let bodyUnsent = !exchange.sentBody && exchange.pending.allSatisfy { if case .body = $0 { false } else { true } }
        if bodyUnsent, Self.isIdempotent(exchange.method) {
            if stale && !exchange.replacedStale {
                // A stale pooled connection: try a new connection to the same backend.
                exchange.replacedStale = true
                start(exchange, on: backend, freshConnection: true)
                return
            }
            if !exchange.retried, let next = context.pool.pick(excluding: backend) {
                exchange.retried = true
                start(exchange, on: next)
                return
            }
        }
        context.durations.record(nanoseconds: exchange.elapsedNanoseconds)
        self.exchange = nil
        if !exchange.requestEnded { discarding = true }
        respondError(.badGateway, "backend \(backend.name) failed", keepAlive: exchange.requestEnded && exchange.keepAlive)
    }

    func responseTimedOut() {
        guard let exchange, !exchange.responseStarted else { return }
        exchange.connection?.handler.delegate = nil
        exchange.connection?.channel.close(promise: nil)
        exchange.backend.failures.add(1, ordering: .relaxed)
        finish()
        respondError(.gatewayTimeout, "backend \(exchange.backend.name) did not answer in time", keepAlive: false)
    }

    func finish() {
        guard let exchange else { return }
        context.durations.record(nanoseconds: exchange.elapsedNanoseconds)
        responseTimer.clear()
        exchange.connection?.handler.delegate = nil
        exchange.backend.inFlight.add(-1, ordering: .relaxed)
        self.exchange = nil
    }
}
