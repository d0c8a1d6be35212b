import HTTP1Wire
import NIOCore
import NIOHTTP1

/// The backend half of an exchange: the response coming back, and what happens when the backend
/// fails, closes or does not answer in time. Runs on the client's event loop, like the rest.
extension ProxyHandler {
    func backendRead(_ part: HTTP1Decoder.Event) {
        guard let context = channelContext else { return }
        switch part {
        case .head(let response):
            switch machine.responseHead(response, hasQueued: !queued.isEmpty) {
            case .ignore:
                break
            case .interim(let forward):
                // The backend is alive and working on it: the response deadline starts again.
                restartResponseDeadline()
                if forward {
                    let edits = ProxyResponseEncoder.Edits(dropHopByHop: Self.needsHopByHopRemoval(response))
                    let head = encoder.head(forwarding: response, version: .http1_1, edits: edits, bodyAllowed: false, allocator: context.channel.allocator)
                    context.writeAndFlush(wrapOutboundOut(.byteBuffer(head)), promise: nil)
                }
            case .closeBackend(let connection):
                connection.channel.close(promise: nil)
            case .head(let framing, let keepAlive, let bodyAllowed):
                responseTimer.clear()
                guard let exchange = machine.exchange else { return }
                let edits = Self.finalEdits(response, framing: framing, clientVersion: exchange.clientVersion, keepAlive: keepAlive)
                let head = encoder.head(
                    forwarding: response, version: exchange.clientVersion, edits: edits, bodyAllowed: bodyAllowed, allocator: context.channel.allocator)
                context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
            }
        case .body(let buffer):
            guard machine.exchange?.responseStarted == true else { return }
            encoder.body(buffer, context: context)
        case .end(let trailers):
            switch machine.responseEnd(trailers) {
            case .ignore:
                break
            case .fail(let failure):
                machine.exchange?.backend.failures.add(1, ordering: .relaxed)
                perform(failure)
            case .end(let trailers, let exchange, let release, let close, let keepAlive):
                finish(exchange)
                if let release { connections.release(release) }
                close?.channel.close(promise: nil)
                if keepAlive {
                    encoder.end(trailers, context: context, promise: nil)
                    context.flush()
                    limits.responseFinished()
                    resumeQueued()
                } else {
                    let written = context.eventLoop.makePromise(of: Void.self)
                    encoder.end(trailers, context: context, promise: written)
                    context.flush()
                    let channel = context.channel
                    written.futureResult.whenComplete { _ in channel.close(promise: nil) }
                }
            }
        }
    }

    /// What the client's copy of a final head changes: its version (written by the encoder), no
    /// hop-by-hop fields, framing the client can follow, and `Connection` as the proxy decided.
    static func finalEdits(
        _ response: HTTP1Head, framing: ResponseFraming, clientVersion: HTTPVersion, keepAlive: Bool
    ) -> ProxyResponseEncoder.Edits {
        var edits = ProxyResponseEncoder.Edits(dropHopByHop: needsHopByHopRemoval(response))
        if clientVersion.minor == 0 {
            // No chunked framing in HTTP/1.0: a body without a length ends with the connection.
            edits.dropTransferEncoding = true
            if keepAlive { edits.connection = "keep-alive" }
        } else if framing == .chunked || (framing == .none && response.contains(.transferEncoding)) {
            // Chunked on; an answer to HEAD keeps saying what a GET would get.
            edits.chunked = true
        } else if framing == .untilClose && keepAlive {
            // The backend ends this body by closing (RFC 9112 6.3 rule 8). Sent on as is, the
            // client would wait for a close that a kept-alive connection never makes; chunked, it
            // sees the end when the backend closes and keeps its connection (HAProxy and nginx do
            // the same for HTTP/1.1 clients).
            edits.chunked = true
        }
        if !keepAlive { edits.connection = "close" }
        return edits
    }

    func backendReadComplete() {
        channelContext?.flush()
    }

    func backendWritabilityChanged(_ writable: Bool) {
        // Backpressure: stop reading the client while the backend cannot take more.
        _ = channelContext?.channel.setOption(.autoRead, value: writable)
    }

    /// The backend's connection failed (a reset, a parse error); its close follows.
    func backendErrored() {
        machine.backendErrored()
    }

    func backendClosed() {
        backendFailed(nil)
    }

    /// The backend failed or closed: before any answer, retry once elsewhere when that is safe,
    /// else 502; during the answer, cut the client's connection.
    func backendFailed(_ candidate: ProxyExchange?) {
        let failed = machine.exchange
        failed?.connection?.handler.delegate = nil
        let (action, counts) = machine.backendFailed(candidate)
        if let failed, counts {
            failed.backend.failures.add(1, ordering: .relaxed)
            if !failed.responseStarted {
                _ = failed.backend.recordCheck(
                    passed: false, rise: configuration.health.rise, fall: configuration.health.fall, immediate: true)
            }
        }
        switch action {
        case .ignore:
            break
        case .reconnect(let exchange):
            exchange.backend.inFlight.add(-1, ordering: .relaxed)
            start(exchange, on: exchange.backend, freshConnection: true)
        case .retryElsewhere(let exchange):
            if let next = context.pool.pick(excluding: exchange.backend) {
                exchange.backend.inFlight.add(-1, ordering: .relaxed)
                start(exchange, on: next)
            } else {
                perform(machine.giveUp())
            }
        case .fail(let failure):
            perform(failure)
        }
    }
}
