import HTTP1Wire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// `--redirect-http PORT`: plain HTTP on that port, every request answered `308 Permanent
/// Redirect` to the same path on the TLS port (308, not 301, so that a POST stays a POST), then
/// the connection closes. Nothing is proxied in clear text.
package final class RedirectServer: Service, Sendable {
    let host: String
    let port: Int
    /// The TLS port to redirect to (known once the proxy listens: it may be port 0 in tests).
    let httpsPort: @Sendable () -> Int?
    let group: any EventLoopGroup
    let logger: Logger
    let boundPort = Mutex<Int?>(nil)

    init(host: String, port: Int, httpsPort: @escaping @Sendable () -> Int?, group: any EventLoopGroup, logger: Logger) {
        self.host = host
        self.port = port
        self.httpsPort = httpsPort
        self.group = group
        self.logger = logger
    }

    package func run() async throws {
        let httpsPort = self.httpsPort
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedirectHandler(httpsPort: httpsPort))
                }
            }
            .bind(host: host, port: port).get()
        boundPort.withLock { $0 = channel.localAddress?.port }
        logger.info("redirecting to https", metadata: ["address": "\(host):\(channel.localAddress?.port ?? 0)"])
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    /// The https URL for a request: the Host field's name (its port dropped), the TLS port unless
    /// it is 443, the target as sent. A Host that is not a plain name or address (`evil.com/x?`
    /// would move the path into it) gives way to `fallbackHost`. A pure function.
    package static func location(host: String?, fallbackHost: String, httpsPort: Int, target: String) -> String {
        var name = host ?? ""
        if name.hasPrefix("[") {
            name = name.firstIndex(of: "]").map { String(name[...$0]) } ?? ""
        } else if let colon = name.lastIndex(of: ":") {
            name = String(name[..<colon])
        }
        if !isPlainHost(name) { name = fallbackHost.contains(":") && !fallbackHost.hasPrefix("[") ? "[\(fallbackHost)]" : fallbackHost }
        let path = target.hasPrefix("/") ? target : "/"
        return "https://\(name)\(httpsPort == 443 ? "" : ":\(httpsPort)")\(path)"
    }

    /// A DNS name or IPv4 address (letters, digits, dots, hyphens), or a bracketed IPv6 address.
    static func isPlainHost(_ name: String) -> Bool {
        if name.hasPrefix("[") {
            return name.hasSuffix("]") && name.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && name.count > 2
        }
        return !name.isEmpty && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }
    }
}

/// One plain-HTTP connection of the redirect port: the first request's head, a 308, close.
private final class RedirectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let httpsPort: @Sendable () -> Int?
    private var decoder = HTTP1Decoder(kind: .request)
    private var answered = false

    init(httpsPort: @escaping @Sendable () -> Int?) {
        self.httpsPort = httpsPort
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // A connection that sends no request head in 10 s is closed: idle ones must not pile up.
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .seconds(10)) { loopBound.value.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        decoder.receive(unwrapInboundIn(data))
        do {
            guard case .head(let head) = try decoder.next() else { return }
            let host = head.fields.first { head.nameEquals($0, "host") }.map { head.value(of: $0) }
            let fallback = context.channel.localAddress?.ipAddress ?? "localhost"
            let location = RedirectServer.location(host: host, fallbackHost: fallback, httpsPort: httpsPort() ?? 443, target: head.target)
            respond(context, "308 Permanent Redirect", extra: "Location: \(location)\r\n")
        } catch {
            respond(context, "400 Bad Request", extra: "")
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ status: String, extra: String) {
        answered = true
        let text = "HTTP/1.1 \(status)\r\n\(extra)Content-Length: 0\r\nConnection: close\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text))).whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
