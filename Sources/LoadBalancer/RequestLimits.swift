import NIOCore

/// Time limits on a client connection; confined to its event loop.
///
/// - header timeout (slowloris): once the first byte of a request arrived, its whole head must
///   follow within the limit, else `408` and close;
/// - idle timeout: a keep-alive connection with no request for that long is closed.
///
/// Part of ``ProxyHandler``, which tells it when bytes came, when a head arrived and when a
/// response ended (a handler of its own was one more pipeline hop on every read).
final class RequestLimits {
    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var awaitingHead = true
    private var headerTimer = DeadlineTimer()
    private var idleTimer = DeadlineTimer()
    private var context: ChannelHandlerContext?

    init(configuration: LoadBalancer.Configuration) {
        headerTimeout = .nanoseconds(configuration.headerTimeout.nanoseconds)
        idleTimeout = .nanoseconds(configuration.idleTimeout.nanoseconds)
    }

    /// The proxy handler was added (`context` is its own).
    func attach(_ context: ChannelHandlerContext) {
        self.context = context
        headerTimer.fire = { [weak self] in self?.headerTimerFired() }
        idleTimer.fire = { [weak self] in self?.idleTimerFired() }
        if context.channel.isActive { armIdle() }
    }

    /// The proxy handler was removed, or the connection closed.
    func detach() {
        headerTimer.cancel()
        idleTimer.cancel()
        context = nil
    }

    func channelActive() {
        armIdle()
    }

    /// Bytes of a request came.
    func bytesReceived() {
        if idleTimer.deadline != nil { idleTimer.clear() }
        if awaitingHead && headerTimer.deadline == nil, let context {
            headerTimer.set(.now() + headerTimeout, on: context.eventLoop)
        }
    }

    /// A complete request head arrived.
    func headReceived() {
        awaitingHead = false
        headerTimer.clear()
    }

    /// A response ended and the connection stays open for the next request.
    func responseFinished() {
        awaitingHead = true
        armIdle()
    }

    private func armIdle() {
        guard let context else { return }
        idleTimer.set(.now() + idleTimeout, on: context.eventLoop)
    }

    private func idleTimerFired() {
        guard let context, idleTimer.hasPassed(on: context.eventLoop) else { return }
        context.close(promise: nil)
    }

    private func headerTimerFired() {
        guard let context, headerTimer.hasPassed(on: context.eventLoop) else {
            return
        }
        let body = #"{"error":"request head not received in time"}"# + "\n"
        let response = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let channel = context.channel
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
