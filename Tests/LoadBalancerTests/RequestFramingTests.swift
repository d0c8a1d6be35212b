import AutoscalerAPI
import LoadBalancer
import Foundation
import TestSupport
import Testing

/// Malformed request framing is answered by the balancer with 400 and never reaches a backend as
/// a request, also when the bad part arrives after the head was forwarded.
@Suite("loadbalancer request framing (raw-socket backend)")
struct RequestFramingTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test(arguments: [
        ("ZZZ\r\nhello\r\n0\r\n\r\n", "not hex"),
        ("-1\r\nhello\r\n0\r\n\r\n", "negative"),
        ("1ffffffffffffffff\r\nhello\r\n0\r\n\r\n", "overflows"),
        ("3\r\nhello\r\n0\r\n\r\n", "longer than its size"),
    ])
    func anInvalidChunkAfterTheHeadIs400(badChunk: String, what: String) async throws {
        try await BalancerHarness.withScriptedBackend({ _ in [.send(Self.ok)] }) { lb, backend in
            let port = lb.proxyPort
            let (answer, closed) = try await onThread {
                let client = try RawHTTPClient(port: port)
                // A good request first, so that the bad one goes over a pooled backend connection.
                _ = try client.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
                Thread.sleep(forTimeInterval: 0.1)
                let answer = try client.exchange(badChunk)
                return (answer, client.isClosedByServer())
            }
            #expect(answer.map(\.status) == [400], "\(what): \(answer)")
            #expect(answer.last?.body.contains("malformed request") == true)
            #expect(closed)
            // The backend saw the good request only: the broken one never arrived whole.
            #expect(backend.requests.map(\.target) == ["/"], "\(what)")
            #expect(try await lb.stats().backends.first?.failuresTotal == 0)
        }
    }

    @Test func anInvalidChunkInTheFirstPacketIs400AndReachesNoBackend() async throws {
        try await BalancerHarness.withScriptedBackend({ _ in [.send(Self.ok)] }) { lb, backend in
            let port = lb.proxyPort
            let answer = try await onThread {
                try RawHTTPClient(port: port).exchange(
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n")
            }
            #expect(answer.map(\.status) == [400])
            #expect(backend.requests.isEmpty)
        }
    }
}

/// Without active health checks, a backend that failed a request comes back after the fail timeout.
@Suite("loadbalancer passive health")
struct PassiveHealthTests {
    @Test func aBackendTakenOutByAFailureComesBackAfterTheFailTimeout() async throws {
        // The first connection answers garbage, every later one properly.
        let script: ScriptedBackend.Script = { request in
            request.connection == 1 ? [.send("garbage\r\n\r\n")] : [.send(RequestFramingTests.ok)]
        }
        try await BalancerHarness.withScriptedBackend(configure: { $0.health.failTimeout = .seconds(5) }, script) { lb, _ in
            #expect(try await lb.request().status == 502)
            #expect(try await lb.stats().backends.first?.state == .down)
            #expect(try await lb.request().status == 503)
            var status: UInt = 0
            for _ in 0..<100 where status != 200 {
                try await Task.sleep(for: .milliseconds(100))
                status = try await lb.request().status
            }
            #expect(status == 200)
            #expect(try await lb.stats().backends.first?.state == .active)
        }
    }
}
