import AsyncHTTPClient
import AutoscalerCore
import Foundation
import LoadBalancer
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

/// A real load balancer on free ports in front of real `webserver` processes.
struct BalancerHarness {
    let balancer: LoadBalancer
    let provider: ProcessProvider
    let instances: [Instance]
    let proxyPort: Int
    let adminPort: Int
    let group: ServiceGroup

    /// Starts the graceful shutdown (SIGTERM's path) without waiting for it.
    func shutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Starts `backends` webservers and a balancer over them, runs `body`, then shuts all down.
    static func with(
        backends: Int, configure: (inout LoadBalancer.Configuration) -> Void = { _ in },
        _ body: (BalancerHarness) async throws -> Void
    ) async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("lb-test-\(UUID().uuidString)").path
        let provider = try ProcessProvider(configuration: .init(stateDirectory: state))
        var instances: [Instance] = []
        do {
            for _ in 0..<backends { instances.append(try await provider.createServing(name: nil, timeout: .seconds(10))) }
            try await run(provider: provider, instances: instances, configure: configure, body)
        } catch {
            for instance in try await provider.instances() { try? await provider.delete(name: instance.name) }
            throw error
        }
        for instance in try await provider.instances() { try? await provider.delete(name: instance.name) }
    }

    private static func run(
        provider: ProcessProvider, instances: [Instance], configure: (inout LoadBalancer.Configuration) -> Void,
        _ body: (BalancerHarness) async throws -> Void
    ) async throws {
        var configuration = LoadBalancer.Configuration()
        configuration.port = 0
        configuration.adminPort = 0
        configuration.threads = 2
        configuration.health.interval = .milliseconds(200)
        configuration.backends = instances.map { ($0.name, $0.endpoint!) }
        configure(&configuration)
        let balancer = LoadBalancer(configuration: configuration, logger: Logger(label: "test"))
        let group = ServiceGroup(services: balancer.services, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var waited = 0
            while (balancer.proxyPort == nil || balancer.adminAPIPort == nil) && waited < 500 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            let harness = BalancerHarness(
                balancer: balancer, provider: provider, instances: instances, proxyPort: try #require(balancer.proxyPort),
                adminPort: try #require(balancer.adminAPIPort), group: group)
            do {
                try await body(harness)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    struct Answer {
        var status: UInt
        var instance: String?
        var body: String
        var headers: HTTPHeaders
    }

    func request(_ path: String = "/", method: HTTPMethod = .GET, body: String? = nil, port: Int? = nil, headers: [(String, String)] = [])
        async throws -> Answer
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port ?? proxyPort)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(
            status: response.status.code, instance: response.headers.first(name: "X-Instance"), body: String(buffer: bytes),
            headers: response.headers)
    }

    func admin(_ path: String, method: HTTPMethod = .GET, body: String? = nil, token: String? = nil) async throws -> Answer {
        try await request(path, method: method, body: body, port: adminPort, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    func stats() async throws -> BalancerStats {
        try JSONDecoder().decode(BalancerStats.self, from: Data(try await admin("/api/v1/stats").body.utf8))
    }
}
