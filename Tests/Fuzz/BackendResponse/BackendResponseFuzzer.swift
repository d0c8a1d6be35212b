import FuzzSupport
import NIOCore
import NIOEmbedded
import TestSupport

/// The balancer's response path: a client's GET goes to a backend whose answer is the input, in
/// pieces, maybe followed by the backend closing the connection; time runs on; then the client
/// asks again on the same connection (if the proxy kept it) and a sound backend answers.
///
/// Invariant: whatever a backend sends, the client only ever receives HTTP/1.x responses.
@main
enum BackendResponseFuzzer {
    static let request = ByteBuffer(string: "GET /page HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuzz\r\n\r\n")
    static let sound = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")

    static func main() {
        FuzzDriver.run { input in
            guard let proxy = try? InMemoryProxy(backends: 1) else { return FuzzDriver.require(false, "the proxy did not start") }
            let closes = input.choice() % 2 == 0
            let method = input.choice() % 3
            let first = method == 0 ? request : ByteBuffer(string: method == 1 ? "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" : "GET / HTTP/1.0\r\n\r\n")
            try? proxy.client.writeInbound(first)
            proxy.loop.run()
            var received: [UInt8] = []
            if let backend = proxy.backendChannels.last?.channel {
                _ = backend.drainOutbound()
                for piece in input.chunks(largest: 48) where backend.isActive {
                    try? backend.writeInbound(ByteBuffer(bytes: piece))
                    proxy.loop.run()
                    received += proxy.client.drainOutbound()
                }
                if closes { try? backend.close().wait() }
            }
            proxy.loop.advanceTime(by: .seconds(600))
            received += proxy.client.drainOutbound()
            if proxy.client.isActive {
                let before = proxy.backendChannels.count
                try? proxy.client.writeInbound(request)
                proxy.loop.run()
                for (_, channel) in proxy.backendChannels.dropFirst(max(0, before - 1)) where channel.isActive {
                    if !channel.drainOutbound().isEmpty { try? channel.writeInbound(sound) }
                }
                proxy.loop.run()
                received += proxy.client.drainOutbound()
            }
            FuzzDriver.require(
                received.isEmpty || received.starts(with: Array("HTTP/1.".utf8)), "the client got \(String(decoding: received.prefix(80), as: UTF8.self))")
            try? proxy.client.close().wait()
            for (_, channel) in proxy.backendChannels { try? channel.close().wait() }
            proxy.loop.run()
            _ = try? proxy.loop.syncShutdownGracefully()
        }
    }
}
