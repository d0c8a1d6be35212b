import FuzzSupport
import NIOCore
import NIOEmbedded
import TestSupport

/// The balancer's request path: a client's bytes, in pieces, through the proxy's real handlers on
/// in-memory channels; every backend connection the proxy opens answers each request it forwards
/// with a small 200. Then time runs on (timeouts fire) and the client leaves.
///
/// Invariants: the client only ever receives HTTP/1.x responses, and a backend only ever receives
/// requests that start with a method.
@main
enum ProxyRequestFuzzer {
    static let answer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n")

    static func main() {
        FuzzDriver.run { input in
            guard let proxy = try? InMemoryProxy(backends: 2) else { return FuzzDriver.require(false, "the proxy did not start") }
            var received: [UInt8] = []
            for piece in input.chunks(largest: 64) {
                try? proxy.client.writeInbound(ByteBuffer(bytes: piece))
                serveBackends(proxy)
                received += proxy.client.drainOutbound()
            }
            proxy.loop.advanceTime(by: .seconds(600))
            serveBackends(proxy)
            try? proxy.client.close().wait()
            proxy.loop.run()
            received += proxy.client.drainOutbound()
            FuzzDriver.require(received.isEmpty || received.starts(with: Array("HTTP/1.".utf8)), "the client got \(String(decoding: received.prefix(80), as: UTF8.self))")
            for (_, channel) in proxy.backendChannels { try? channel.close().wait() }
            proxy.loop.run()
            _ = try? proxy.loop.syncShutdownGracefully()
        }
    }

    /// Answers what each backend connection was sent, until nothing more is forwarded.
    static func serveBackends(_ proxy: InMemoryProxy) {
        for _ in 0..<8 {
            proxy.loop.run()
            var answered = false
            for (_, channel) in proxy.backendChannels where channel.isActive {
                let forwarded = channel.drainOutbound()
                guard !forwarded.isEmpty else { continue }
                FuzzDriver.require(
                    forwarded.first.map { (65...90).contains($0) } ?? false,
                    "a backend was sent \(String(decoding: forwarded.prefix(80), as: UTF8.self))")
                try? channel.writeInbound(answer)
                answered = true
            }
            if !answered { return }
        }
    }

}
