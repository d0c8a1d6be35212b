import AsyncHTTPClient
import AutoscalerAPI
import Foundation
import HAProxyRuntime
import InstanceProviders
import TestSupport
import Testing

/// The Runtime API client against a real HAProxy in front of real webserver processes.
@Suite("HAProxy over its Runtime API", .serialized)
struct HAProxyBalancerTests {
    /// Webservers from the process provider, removed afterwards.
    static func withServers(_ count: Int, _ body: ([Instance]) async throws -> Void) async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("haproxy-servers-\(UUID().uuidString)").path
        let provider = try ProcessProvider(configuration: .init(stateDirectory: state))
        var instances: [Instance] = []
        defer {
            let made = instances
            Task { for instance in made { try? await provider.delete(name: instance.name) } }
        }
        for _ in 0..<count { instances.append(try await provider.createServing(name: nil, timeout: .seconds(10))) }
        try await body(instances)
        for instance in instances { try? await provider.delete(name: instance.name) }
    }

    static func get(_ port: Int) async throws -> (status: Int, instance: String?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "X-Instance"))
    }

    @Test func addedServerTakesTrafficThenDrainsAndGoes() async throws {
        try await Self.withServers(2) { servers in
            let (a, b) = (servers[0], servers[1])
            let haproxy = try await HAProxyProcess(backend: """
                balance roundrobin
                option httpchk GET /healthz
                server static1 \(a.endpoint!) check inter 1s
                """)
            defer { haproxy.stop() }
            let balancer = try HAProxyBalancer(url: "haproxy:\(haproxy.socketPath)")
            try await balancer.register(name: "web_vm9", address: b.endpoint!)
            try await balancer.register(name: "web_vm9", address: b.endpoint!)  // idempotent
            try await waitUntil(10, "web_vm9 up") { try await balancer.stats().backends.contains { $0.name == "web_vm9" && $0.state == .active } }
            var seen: Set<String> = []
            for _ in 0..<10 {
                let answer = try await Self.get(haproxy.port)
                #expect(answer.status == 200)
                if let instance = answer.instance { seen.insert(instance) }
            }
            #expect(seen == [a.name, b.name])
            let stats = try await balancer.stats()
            #expect(stats.requestsTotal >= 10)
            #expect((stats.backends.first { $0.name == "web_vm9" }?.requestsTotal ?? 0) >= 4)

            // The configuration's own server is left alone.
            await #expect(throws: AutoscalerError.self) { try await balancer.remove(name: "static1") }
            try await balancer.drain(name: "web_vm9", timeout: .seconds(10))
            #expect(try await balancer.stats().backends.map(\.name) == ["static1"])
            for _ in 0..<4 { #expect(try await Self.get(haproxy.port).instance == a.name) }
            #expect(try await balancer.remove(name: "web_vm9") == false)
        }
    }

    @Test func aReloadDropsDynamicServersAndRegisteringAgainRestoresThem() async throws {
        try await Self.withServers(1) { servers in
            let haproxy = try await HAProxyProcess(backend: "balance roundrobin\noption httpchk GET /healthz")
            defer { haproxy.stop() }
            let balancer = try HAProxyBalancer(url: "haproxy:\(haproxy.socketPath)")
            try await balancer.register(name: "web_vm3", address: servers[0].endpoint!)
            try haproxy.reload()
            do {
                try await waitUntil(10, "the new worker without web_vm3") { (try? await balancer.stats().backends.isEmpty) == true }
            } catch {
                Issue.record("\(error); HAProxy's log: \(haproxy.log)")
                throw error
            }
            try await balancer.register(name: "web_vm3", address: servers[0].endpoint!)
            try await waitUntil(10, "web_vm3 back") { try await balancer.stats().backends.contains { $0.name == "web_vm3" && $0.state == .active } }
            #expect(try await Self.get(haproxy.port).instance == servers[0].name)
        }
    }

    @Test func aStaticAlgorithmIsRefusedWithTheReason() async throws {
        let haproxy = try await HAProxyProcess(backend: "balance static-rr")
        defer { haproxy.stop() }
        let balancer = try HAProxyBalancer(url: "haproxy:\(haproxy.socketPath)")
        do {
            try await balancer.register(name: "web_vm3", address: Endpoint(host: "127.0.0.1", port: 1))
            Issue.record("static-rr took a dynamic server")
        } catch let error as AutoscalerError {
            #expect("\(error)".contains("its 'balance' must be dynamic"), "\(error)")
        }
        let other = try HAProxyBalancer(url: "haproxy:\(haproxy.socketPath)", configuration: .init(backend: "nope"))
        await #expect(throws: AutoscalerError.self) { try await other.stats() }
    }

    @Test func noSocketIsABalancerError() async throws {
        let balancer = try HAProxyBalancer(url: "haproxy:/nonexistent/admin.sock")
        do {
            _ = try await balancer.stats()
            Issue.record("stats without HAProxy")
        } catch let error as AutoscalerError {
            #expect("\(error)".contains("cannot reach HAProxy's Runtime API"), "\(error)")
        }
    }
}
