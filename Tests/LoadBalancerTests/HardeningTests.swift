import Foundation
import LoadBalancer
import TestSupport
import Testing

/// Bad input gets the right status and the balancer stays up.
@Suite("loadbalancer against bad input")
struct HardeningTests {
    static let cases: [(name: String, request: String, status: String)] = [
        ("garbage bytes", "\u{01}\u{02}\u{03} NOT HTTP\r\n\r\n", "400"),
        ("oversized headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n", "431"),
        ("overlong request line", "GET /\(String(repeating: "a", count: 9_000)) HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
        ("bad chunked encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n", "400"),
        ("conflicting Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", "400"),
        ("invalid Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "400"),
        ("Content-Length with chunked", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"),
        ("CR/LF injection in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\rX-Injected: 1\r\n\r\n", "400"),
        ("bare LF in the request line", "GET / HTTP/1.1\nHost: x\n\rX: y\r\n\r\n", "400"),
        ("CONNECT", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n", "405"),
    ]

    @Test func eachBadRequestGetsItsStatusAndTheProxyStaysUp() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            for (name, request, status) in Self.cases {
                let reply = try await RawHTTP.exchange(port: lb.proxyPort, request)
                #expect(reply.hasPrefix("HTTP/1.1 \(status)"), "\(name): \(reply.prefix(80))")
                let after = try await lb.request()
                #expect(after.status == 200, "\(name): proxy did not answer afterwards")
            }
            let stats = try await lb.stats()
            #expect(stats.backends.first?.failuresTotal == 0)
        }
    }

    @Test func bodyLimitIs413() async throws {
        try await BalancerHarness.with(backends: 1, configure: { $0.maxBodyBytes = 1000 }) { lb in
            let declared = try await RawHTTP.exchange(port: lb.proxyPort, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
            #expect(declared.hasPrefix("HTTP/1.1 413"))
            let small = try await lb.request("/", method: .POST, body: "tiny")
            #expect(small.status == 200)
        }
    }

    @Test func slowlorisGets408() async throws {
        try await BalancerHarness.with(backends: 1, configure: { $0.headerTimeout = .milliseconds(300) }) { lb in
            // The head never ends: RawHTTP waits for the close.
            let reply = try await RawHTTP.exchange(port: lb.proxyPort, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            #expect(reply.hasPrefix("HTTP/1.1 408"))
        }
    }

    @Test func connectionCapClosesExtraConnections() async throws {
        try await BalancerHarness.with(backends: 1, configure: { $0.maxConnections = 1 }) { lb in
            let held = try RawHTTP.Connection(port: lb.proxyPort)
            try await Task.sleep(for: .milliseconds(100))
            // Closed at once without a byte (a hung proxy would throw a time-out here instead).
            let refused = try await RawHTTP.exchange(port: lb.proxyPort, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeoutSeconds: 3)
            #expect(refused.isEmpty)
            held.close()
        }
    }
}

@Suite("loadbalancer admin API")
struct AdminAPITests {
    @Test func tokenGuardsMutatingCalls() async throws {
        try await BalancerHarness.with(backends: 2, configure: { $0.adminToken = "s3cret" }) { lb in
            let endpoint = try #require(lb.instances[0].endpoint)
            let body = #"{"address":"\#(endpoint)"}"#
            let anonymous = try await lb.admin("/api/v1/backends/extra", method: .PUT, body: body)
            #expect(anonymous.status == 401 && anonymous.body.contains(#""error""#))
            let wrong = try await lb.admin("/api/v1/backends/extra", method: .PUT, body: body, token: "nope")
            #expect(wrong.status == 401)
            let deleteAnonymous = try await lb.admin("/api/v1/backends/web_vm1", method: .DELETE)
            #expect(deleteAnonymous.status == 401)
            #expect(try await lb.admin("/api/v1/stats").status == 200)

            let added = try await lb.admin("/api/v1/backends/extra", method: .PUT, body: body, token: "s3cret")
            #expect(added.status == 201)
            #expect(added.body.contains(#""healthy":true"#))
            let again = try await lb.admin("/api/v1/backends/extra", method: .PUT, body: body, token: "s3cret")
            #expect(again.status == 200)
            let list = try await lb.admin("/api/v1/backends")
            #expect(list.body.contains(#""name":"extra""#))
        }
    }

    /// A web page the user opens: DNS rebinding (a foreign Host) and a cross-site request (a
    /// foreign Origin, a form's text/plain body) cannot add a backend, even with the token.
    @Test func webPagesCannotAddOrDrainBackends() async throws {
        try await BalancerHarness.with(backends: 1, configure: { $0.adminToken = "s3cret" }) { lb in
            let body = #"{"address":"127.0.0.1:1"}"#
            let rebound = try await lb.admin("/api/v1/backends/evil", method: .PUT, body: body, token: "s3cret", headers: [("Host", "evil.example:\(lb.adminPort)"), ("Origin", "http://evil.example:\(lb.adminPort)")])
            #expect(rebound.status == 421 && rebound.body.contains(#""error""#), "\(rebound.body)")
            #expect(try await lb.admin("/api/v1/stats", headers: [("Host", "evil.example")]).status == 421)
            let crossSite = try await lb.admin("/api/v1/backends/evil", method: .PUT, body: body, token: "s3cret", headers: [("Origin", "http://evil.example")])
            #expect(crossSite.status == 403)
            let drain = try await lb.admin("/api/v1/backends/web_vm1", method: .DELETE, token: "s3cret", headers: [("Origin", "http://evil.example")])
            #expect(drain.status == 403)
            let form = try await lb.admin("/api/v1/backends/evil", method: .PUT, body: body, token: "s3cret", headers: [("Content-Type", "text/plain")])
            #expect(form.status == 415)
            #expect(try await lb.stats().backends.map(\.name) == ["web_vm1"])
            // localhost, and the same origin, are the API's own.
            let local = try await lb.admin("/api/v1/stats", headers: [("Host", "localhost:\(lb.adminPort)"), ("Origin", "http://localhost:\(lb.adminPort)")])
            #expect(local.status == 200)
        }
    }

    @Test func putOfAnUnreachableBackendStaysDownAndTakesNoTraffic() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            let answer = try await lb.admin("/api/v1/backends/ghost", method: .PUT, body: #"{"address":"127.0.0.1:1"}"#)
            #expect(answer.status == 201)
            #expect(answer.body.contains(#""state":"down""#))
            for _ in 0..<10 { #expect(try await lb.request().instance == "web_vm1") }
        }
    }

    @Test(arguments: [
        (#"{"address":"nohost"}"#, "address must be host:port"),
        (#"{"adress":"127.0.0.1:80"}"#, "body must be"),
        ("not json", "body must be"),
    ])
    func badRegistrationIs400(body: String, message: String) async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            let answer = try await lb.admin("/api/v1/backends/x", method: .PUT, body: body)
            #expect(answer.status == 400)
            #expect(answer.body.contains(message))
        }
    }

    @Test func unknownBackendDeleteIs404AndMetricsAreExposed() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            #expect(try await lb.admin("/api/v1/backends/nope", method: .DELETE).status == 404)
            _ = try await lb.request()
            let metrics = try await lb.admin("/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains(#"lb_backend_requests_total{backend="web_vm1""#))
            #expect(metrics.body.contains("lb_requests_total 1"))
            #expect(metrics.body.contains("lb_request_duration_seconds_count 1"))
            #expect(metrics.body.contains(#"lb_request_duration_seconds_bucket{le="+Inf"} 1"#))
        }
    }

    /// A removed backend's series leave /metrics (they stayed, and piled up as backends churned).
    @Test func aRemovedBackendLeavesTheMetrics() async throws {
        try await BalancerHarness.with(backends: 2) { lb in
            _ = try await lb.request()
            #expect(try await lb.admin("/metrics").body.contains(#"backend="web_vm2""#))
            #expect(try await lb.admin("/api/v1/backends/web_vm2", method: .DELETE).status == 202)
            try await waitUntil(10, "web_vm2 gone from the pool") { try await lb.stats().backends.count == 1 }
            let metrics = try await lb.admin("/metrics").body
            #expect(!metrics.contains(#"backend="web_vm2""#), "\(metrics)")
            #expect(metrics.contains(#"lb_backend_requests_total{backend="web_vm1""#))
        }
    }
}
