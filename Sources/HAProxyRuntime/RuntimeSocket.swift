import AutoscalerAPI
import NIOCore
import NIOPosix

/// One Runtime API command per connection, as HAProxy's non-interactive mode works: connect,
/// write the command and a newline, read until HAProxy closes.
struct RuntimeSocket: Sendable {
    let address: HAProxyAddress
    let group: any EventLoopGroup
    /// Time allowed for one command, connect to close.
    let timeout: Duration

    /// HAProxy's answer to `command` (the text before it closed the connection).
    func send(_ command: String) async throws -> String {
        precondition(!command.contains("\n"), "one command per line")
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let done = group.next().makePromise(of: String.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(timeout.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(done: done)) }
            }
        let channel: any Channel
        do {
            switch address {
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            }
        } catch {
            done.fail(error)
            throw AutoscalerError.balancer("cannot reach HAProxy's Runtime API at \(address) (is haproxy running, with a `stats socket ... level admin`?): \(error)")
        }
        // One deadline for the whole command: what is left of it after the connect.
        let late = AutoscalerError.balancer("HAProxy at \(address) did not answer '\(command)' in \(timeout)")
        let remaining = max(.zero, deadline - clock.now)
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(remaining.nanoseconds)) {
            channel.pipeline.fireErrorCaught(late)
        }
        defer { timer.cancel() }
        var buffer = channel.allocator.buffer(capacity: command.utf8.count + 1)
        buffer.writeString(command + "\n")
        do {
            try await channel.writeAndFlush(buffer).get()
        } catch {
            // Fails the promise (if still open) and closes: nothing is left waiting or open.
            channel.pipeline.fireErrorCaught(error)
            throw AutoscalerError.balancer("cannot send '\(command)' to HAProxy at \(address): \(error)")
        }
        do {
            return try await done.futureResult.get()
        } catch let error as AutoscalerError {
            throw error
        } catch {
            throw AutoscalerError.balancer("HAProxy at \(address) failed on '\(command)': \(error)")
        }
    }

    /// Gathers everything HAProxy sends; completes when it closes.
    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private var received: ByteBuffer?
        private let done: EventLoopPromise<String>

        init(done: EventLoopPromise<String>) { self.done = done }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
        }

        /// Whether the promise is completed: an error and the close that follows it both end here.
        private var finished = false

        func channelInactive(context: ChannelHandlerContext) {
            guard !finished else { return }
            finished = true
            done.succeed(received.map { String(buffer: $0) } ?? "")
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if !finished {
                finished = true
                done.fail(error)
            }
            context.close(promise: nil)
        }
    }
}
