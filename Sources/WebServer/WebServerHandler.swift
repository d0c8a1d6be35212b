import Foundation
import NIOCore
import NIOHTTP1

/// Answers one connection's HTTP requests; confined to the channel's event loop.
final class WebServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the server answers, shared by every connection.
    struct Responder: Sendable {
        let name: String
        let maxWorkMilliseconds: Int
        /// Before this instant every answer is 503 (still starting).
        var readyAt: NIODeadline = .uptimeNanoseconds(0)
    }

    private let responder: Responder
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(responder: Responder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    /// A parse error has already been answered with 400 by NIO's error handler; the connection
    /// cannot be resynchronized, so close it rather than leave the client waiting.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (path, query) = Self.split(head.uri)
        let response: (HTTPResponseStatus, String, String)
        if NIODeadline.now() < responder.readyAt {
            write((.serviceUnavailable, "application/json", Self.error("starting")), for: head, chunked: false, context: context)
            return
        }
        switch (head.method, path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            response = (.ok, "application/json", #"{"status":"ok","instance":"\#(responder.name)"}"# + "\n")
        case (.GET, "/"), (.HEAD, "/"), (.POST, "/"):
            if let work = query["work"] {
                guard let milliseconds = Int(work), (0...responder.maxWorkMilliseconds).contains(milliseconds) else {
                    response = (.badRequest, "application/json", Self.error("work must be 0 to \(responder.maxWorkMilliseconds) ms"))
                    break
                }
                Self.burnCPU(milliseconds: milliseconds)
            }
            response = (.ok, "text/plain; charset=utf-8", head.method == .POST ? "\(responder.name) \(bodyBytes)\n" : "\(responder.name)\n")
        case (_, "/"), (_, "/healthz"):
            response = (.methodNotAllowed, "application/json", Self.error("method \(head.method) not allowed"))
        default:
            response = (.notFound, "application/json", Self.error("no such path: \(path)"))
        }
        write(response, for: head, chunked: query["chunked"] != nil, context: context)
    }

    /// Writes a response; `chunked` (`?chunked=1`) sends the body in two parts without a length, as
    /// a streaming application would: chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0 ones.
    private func write(
        _ response: (HTTPResponseStatus, String, String), for head: HTTPRequestHead, chunked: Bool, context: ChannelHandlerContext
    ) {
        let (status, contentType, body) = response
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        if !chunked { headers.add(name: "Content-Length", value: "\(body.utf8.count)") }
        headers.add(name: "X-Instance", value: responder.name)
        let keepAlive = head.isKeepAlive && !(chunked && head.version.minor == 0)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            let bytes = Array(body.utf8)
            let parts = chunked ? [bytes.prefix(bytes.count / 2), bytes.dropFirst(bytes.count / 2)] : [bytes[...]]
            for part in parts {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: part)))), promise: nil)
            }
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Spins on the event loop on purpose: an instance's capacity is then 1000/MS requests per second
    /// per thread, like a VM with one busy vCPU, which is what makes scaling visible.
    static func burnCPU(milliseconds: Int) {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(milliseconds)
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        while clock.now < deadline {
            for _ in 0..<1_000 { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407 }
        }
        blackHole(x)
    }

    @inline(never)
    static func blackHole(_ value: UInt64) {
        _ = value
    }

    static func split(_ uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            query[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return (String(uri[..<mark]), query)
    }

    static func error(_ message: String) -> String {
        let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return #"{"error":"\#(escaped)"}"# + "\n"
    }
}
