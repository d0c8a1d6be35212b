import NIOCore

/// Time limits on a client connection, in front of the HTTP decoder; confined to its event loop.
///
/// - header timeout (slowloris): once the first byte of a request arrived, its whole head must
///   follow within the limit, else `408` and close;
/// - idle timeout: a keep-alive connection with no request for that long is closed.
///
/// ``ProxyHandler`` tells it when a head arrived and when a response ended.
/// Inbound only, so that responses do not pass through it on their way out.
final class RequestLimitsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

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

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        headerTimer.fire = { [weak self] in self?.headerTimerFired() }
        idleTimer.fire = { [weak self] in self?.idleTimerFired() }
        if context.channel.isActive { armIdle() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headerTimer.cancel()
        idleTimer.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdle()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if idleTimer.deadline != nil { idleTimer.clear() }
        if awaitingHead && headerTimer.deadline == nil {
            headerTimer.set(.now() + headerTimeout, on: context.eventLoop)
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        headerTimer.cancel()
        idleTimer.cancel()
        context.fireChannelInactive()
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
