import AutoscalerAPI
import Foundation
import LoadBalancer
import NIOHTTP1
import TestSupport
import Testing

@Suite("loadbalancer proxying to real webservers")
struct ProxyTests {
    @Test func roundRobinSpreadIsExact() async throws {
        try await BalancerHarness.with(backends: 3) { lb in
            var counts: [String: Int] = [:]
            for _ in 0..<60 {
                let answer = try await lb.request()
                #expect(answer.status == 200)
                counts[answer.instance ?? "?", default: 0] += 1
            }
            #expect(counts == ["web_vm1": 20, "web_vm2": 20, "web_vm3": 20])
            let stats = try await lb.stats()
            #expect(stats.requestsTotal == 60)
            #expect(stats.backends.map(\.requestsTotal) == [20, 20, 20])
            #expect(stats.backends.allSatisfy { $0.inFlight == 0 && $0.failuresTotal == 0 && $0.state == .active })
        }
    }

    /// Backends given by IP address are connected to by address; by name, each connection
    /// resolves the name: both must carry traffic and pass checks.
    @Test func backendsByNameAndByAddressBothServe() async throws {
        try await BalancerHarness.with(
            backends: 2,
            configure: { configuration in
                let (name, endpoint) = configuration.backends[1]
                configuration.backends[1] = (name, Endpoint(host: "localhost", port: endpoint.port))
            }
        ) { lb in
            var counts: [String: Int] = [:]
            for _ in 0..<10 { counts[try await lb.request().instance ?? "?", default: 0] += 1 }
            #expect(counts == ["web_vm1": 5, "web_vm2": 5])
            try await Task.sleep(for: .milliseconds(500))  // a few checks (every 200 ms here)
            let stats = try await lb.stats()
            #expect(stats.backends.map(\.address) == ["\(lb.instances[0].endpoint!)", "localhost:\(lb.instances[1].endpoint!.port)"])
            #expect(stats.backends.allSatisfy { $0.healthy && $0.failuresTotal == 0 })
        }
    }

    @Test func forwardsBodiesHeadersAndHTTP10() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            let post = try await lb.request("/", method: .POST, body: String(repeating: "y", count: 100_000))
            #expect(post.body == "web_vm1 100000\n")
            let chunked = try await RawHTTP.exchange(
                port: lb.proxyPort,
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            #expect(chunked.contains("200 OK") && chunked.contains("web_vm1 11"))
            let http10 = try await RawHTTP.exchange(port: lb.proxyPort, "GET / HTTP/1.0\r\n\r\n")
            #expect(http10.hasPrefix("HTTP/1.0 200 OK"))
            #expect(http10.hasSuffix("web_vm1\n"))
            let pipelined = try await RawHTTP.exchange(
                port: lb.proxyPort,
                "GET /?work=30 HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let bodies = pipelined.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix(9) }
            #expect(pipelined.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
            #expect(bodies.first == "web_vm1\nH")
            let absolute = try await RawHTTP.exchange(port: lb.proxyPort, "GET http://evil.example/healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
            #expect(absolute.contains(#""instance":"web_vm1""#))
        }
    }

    /// The proxy frames responses itself: chunked ones stay chunked for HTTP/1.1, lose the chunk
    /// framing for HTTP/1.0, and an answer to HEAD carries no body (the next answer on the same
    /// connection would be corrupt otherwise).
    @Test func forwardsChunkedResponsesAndHEAD() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            let chunked = try await RawHTTP.exchange(port: lb.proxyPort, "GET /?chunked=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(chunked.lowercased().contains("transfer-encoding: chunked"))
            #expect(!chunked.lowercased().contains("content-length"))
            #expect(chunked.hasSuffix("\r\n\r\n4\r\nweb_\r\n4\r\nvm1\n\r\n0\r\n\r\n"))
            let http10 = try await RawHTTP.exchange(port: lb.proxyPort, "GET /?chunked=1 HTTP/1.0\r\n\r\n")
            #expect(http10.hasPrefix("HTTP/1.0 200 OK"))
            #expect(!http10.lowercased().contains("transfer-encoding"))
            #expect(http10.hasSuffix("\r\n\r\nweb_vm1\n"))
            let headThenGet = try await RawHTTP.exchange(
                port: lb.proxyPort,
                "HEAD /?chunked=1 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answers = headThenGet.components(separatedBy: "HTTP/1.1 200 OK\r\n")
            #expect(answers.count == 3)
            #expect(answers.dropFirst().first?.hasSuffix("\r\n\r\n") == true)
            #expect(headThenGet.hasSuffix("\r\n\r\nweb_vm1\n"))
        }
    }

    /// The duration histogram sees what clients see: a backend that works 120 ms per request puts
    /// the median in the 100–250 ms bucket, and a window between two reads holds only its requests.
    @Test func requestDurationsAreMeasured() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            for _ in 0..<3 { _ = try await lb.request("/") }
            let before = try await lb.stats()
            for _ in 0..<5 { #expect(try await lb.request("/?work=120").status == 200) }
            let after = try await lb.stats()
            let latency = try #require(after.latency)
            #expect(latency.count == 8)
            #expect(latency.sumSeconds >= 0.6)
            let median = try #require(latency.quantile(0.5, since: before.latency))
            #expect(median > 0.1 && median <= 0.25)
            #expect(try #require(latency.quantile(0.1)) < 0.1)
        }
    }

    @Test func noBackendIs503() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            let answer = try await lb.request()
            #expect(answer.status == 503)
            #expect(answer.body.contains(#""error":"no backend available""#))
        }
    }

    @Test func slowBackendIs504() async throws {
        try await BalancerHarness.with(backends: 1, configure: { $0.responseTimeout = .milliseconds(300) }) { lb in
            let answer = try await lb.request("/?work=1500")
            #expect(answer.status == 504)
            #expect(answer.headers.first(name: "Content-Type") == "application/json")
        }
    }

    @Test func killedBackendIsTakenOutWithoutClientErrors() async throws {
        try await BalancerHarness.with(backends: 3) { lb in
            let victim = lb.instances[1]
            let statuses = try await withThrowingTaskGroup(of: [UInt].self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var seen: [UInt] = []
                        for index in 0..<60 {
                            if client == 0 && index == 15 { try await lb.provider.stop(name: victim.name, timeout: .zero) }
                            seen.append(try await lb.request("/?work=2").status)
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(statuses.count == 240)
            #expect(statuses.allSatisfy { $0 == 200 })
            let stats = try await lb.stats()
            let dead = try #require(stats.backends.first { $0.name == victim.name })
            #expect(!dead.healthy && dead.state == .down)
        }
    }

    @Test func drainUnderLoadLosesNoRequest() async throws {
        try await BalancerHarness.with(backends: 2) { lb in
            let statuses = try await withThrowingTaskGroup(of: [UInt].self) { group in
                for client in 0..<6 {
                    group.addTask {
                        var seen: [UInt] = []
                        for index in 0..<30 {
                            if client == 0 && index == 10 {
                                let answer = try await lb.admin("/api/v1/backends/web_vm2", method: .DELETE)
                                #expect(answer.status == 202)
                                #expect(answer.body.contains(#""state":"draining""#))
                            }
                            seen.append(try await lb.request("/?work=20").status)
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(statuses.allSatisfy { $0 == 200 })
            try await Task.sleep(for: .milliseconds(300))
            let stats = try await lb.stats()
            #expect(stats.backends.map(\.name) == ["web_vm1"])
            #expect(stats.requestsTotal == 180)
        }
    }
}

@Suite("loadbalancer shutdown")
struct ShutdownTests {
    @Test func gracefulShutdownFinishesInFlightRequests() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            async let slow = lb.request("/?work=500")
            try await Task.sleep(for: .milliseconds(150))
            await lb.shutdown()
            let answer = try await slow
            #expect(answer.status == 200 && answer.instance == "web_vm1")
        }
    }
}
