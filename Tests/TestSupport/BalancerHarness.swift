import AsyncHTTPClient
import AutoscalerAPI
import InstanceProviders
import Foundation
import LoadBalancer
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// A real load balancer on free ports in front of real `webserver` processes.
public struct BalancerHarness: Sendable {
    public let balancer: LoadBalancer
    public let provider: ProcessProvider
    public let instances: [Instance]
    public let proxyPort: Int
    public let adminPort: Int
    public let group: ServiceGroup

    /// Starts the graceful shutdown (SIGTERM's path) without waiting for it.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Starts `backends` webservers and a balancer over them, runs `body`, then shuts all down.
    public static func with(
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
        try await withRunningServices(balancer.services) { (group: ServiceGroup) in
            try await waitUntil(5, "the balancer's ports", every: .milliseconds(10)) {
                balancer.proxyPort != nil && balancer.adminAPIPort != nil
            }
            let harness = BalancerHarness(
                balancer: balancer, provider: provider, instances: instances, proxyPort: try balancer.proxyPort.orThrow("proxy did not start"),
                adminPort: try balancer.adminAPIPort.orThrow("admin API did not start"), group: group)
            try await body(harness)
        }
    }

    /// A balancer over one ``ScriptedBackend`` named `raw`, without active checks (their probes
    /// would reach the script too).
    public static func withScriptedBackend(
        configure: (inout LoadBalancer.Configuration) -> Void = { _ in }, _ script: @escaping ScriptedBackend.Script,
        _ body: (BalancerHarness, ScriptedBackend) async throws -> Void
    ) async throws {
        let backend = try ScriptedBackend(script: script)
        defer { backend.stop() }
        try await with(
            backends: 0,
            configure: {
                $0.backends = [("raw", Endpoint(host: "127.0.0.1", port: backend.port))]
                $0.health.enabled = false
                configure(&$0)
            }
        ) { lb in try await body(lb, backend) }
    }

    public struct Answer: Sendable {
        public var status: UInt
        public var instance: String?
        public var body: String
        public var headers: HTTPHeaders
    }

    public func request(_ path: String = "/", method: HTTPMethod = .GET, body: String? = nil, port: Int? = nil, headers: [(String, String)] = [])
        async throws -> Answer
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port ?? proxyPort)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(
            status: response.status.code, instance: response.headers.first(name: "X-Instance"), body: String(buffer: bytes),
            headers: response.headers)
    }

    /// A call to the admin API as its clients make it: a JSON body, the token if given.
    public func admin(_ path: String, method: HTTPMethod = .GET, body: String? = nil, token: String? = nil, headers: [(String, String)] = [])
        async throws -> Answer
    {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        if body != nil && !all.contains(where: { $0.0.lowercased() == "content-type" }) { all.append(("Content-Type", "application/json")) }
        return try await request(path, method: method, body: body, port: adminPort, headers: all)
    }

    public func stats() async throws -> BalancerStats {
        try JSONDecoder().decode(BalancerStats.self, from: Data(try await admin("/api/v1/stats").body.utf8))
    }
}

/// A harness step that did not happen.
public struct HarnessError: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw HarnessError(description: message) }
        return self
    }
}
