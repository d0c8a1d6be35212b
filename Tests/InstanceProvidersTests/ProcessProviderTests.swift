import AsyncHTTPClient
import AutoscalerAPI
import AutoscalerClient
import InstanceProviders
import Foundation
import Logging
import Testing

/// The process provider with real `webserver` children on loopback ports.
@Suite("ProcessProvider with real webserver processes")
struct ProcessProviderTests {
    let stateDirectory: String

    init() throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("autoscaler-test-\(UUID().uuidString)").path
    }

    func provider() throws -> ProcessProvider {
        try ProcessProvider(configuration: .init(stateDirectory: stateDirectory))
    }

    func get(_ endpoint: Endpoint, _ path: String = "/") async throws -> (status: UInt, instance: String?, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(endpoint)\(path)"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 16)
        return (response.status.code, response.headers.first(name: "X-Instance"), String(buffer: body))
    }

    func isListening(_ endpoint: Endpoint) async -> Bool {
        await HTTPProbe(path: "/healthz").check(endpoint)
    }

    @Test func createsServesAdoptsAndDeletes() async throws {
        let provider = try provider()
        let first = try await provider.createServing(name: nil, timeout: .seconds(10))
        let second = try await provider.createServing(name: nil, timeout: .seconds(10))
        #expect(first.name == "web_vm1" && second.name == "web_vm2")
        let firstEndpoint = try #require(first.endpoint)
        #expect(firstEndpoint.host == "127.0.0.1")
        #expect(first.endpoint != second.endpoint)

        let answer = try await get(firstEndpoint)
        #expect(answer.status == 200 && answer.instance == "web_vm1" && answer.body == "web_vm1\n")

        // A second provider over the same state directory (another process, in real use) adopts them.
        let adopter = try self.provider()
        let adopted = try await adopter.instances()
        #expect(adopted.map(\.name) == ["web_vm1", "web_vm2"])
        #expect(adopted.allSatisfy { $0.state == .running && $0.origin == .created })

        try await adopter.delete(name: "web_vm1")
        #expect(await !isListening(firstEndpoint))
        #expect(try await provider.instances().map(\.name) == ["web_vm2"])
        // The freed name is reused, as the original reused web_vm<N>.
        let third = try await provider.create(name: nil)
        #expect(third.name == "web_vm1")
        try await provider.delete(name: "web_vm1")
        try await provider.delete(name: "web_vm2")
        #expect(try await provider.instances().isEmpty)
        #expect(await !isListening(try #require(second.endpoint)))
    }

    @Test func concurrentCreatesGetDistinctNamesAndPorts() async throws {
        let provider = try provider()
        let instances = try await withThrowingTaskGroup(of: Instance.self) { group in
            for _ in 0..<4 { group.addTask { try await provider.create(name: nil) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(instances.map(\.name)) == ["web_vm1", "web_vm2", "web_vm3", "web_vm4"])
        #expect(Set(instances.compactMap(\.endpoint)).count == 4)
        for instance in instances { try await provider.delete(name: instance.name) }
    }

    @Test func deadProcessIsReportedStoppedAndCanBeDeleted() async throws {
        let provider = try provider()
        let instance = try await provider.createServing(name: "victim", timeout: .seconds(10))
        let record = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(stateDirectory)/instances/victim.json"))) as? [String: Any]
        let pid = try #require(record?["pid"] as? Int)
        kill(pid_t(pid), SIGKILL)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await provider.instance(named: "victim").state == .stopped)
        try await provider.delete(name: instance.name)
        #expect(try await provider.instances().isEmpty)
    }

    @Test func sigtermStopsGracefully() async throws {
        let provider = try provider()
        let instance = try await provider.createServing(name: nil, timeout: .seconds(10))
        try await provider.stop(name: instance.name, timeout: .seconds(5))
        #expect(try await provider.instance(named: instance.name).state == .stopped)
        let log = try String(contentsOfFile: "\(stateDirectory)/instances/\(instance.name).log", encoding: .utf8)
        #expect(log.contains("shutting down"))
        try await provider.delete(name: instance.name)
    }

    @Test func errors() async throws {
        let provider = try provider()
        await #expect(throws: AutoscalerError.notFound("ghost")) { try await provider.delete(name: "ghost") }
        await #expect(throws: AutoscalerError.invalidName("../x")) { try await provider.create(name: "../x") }
        let instance = try await provider.create(name: "dup")
        await #expect(throws: AutoscalerError.nameTaken("dup")) { try await provider.create(name: "dup") }
        try await provider.delete(name: instance.name)

        let missing = try ProcessProvider(configuration: .init(stateDirectory: stateDirectory, webserverPath: "/nonexistent/webserver"))
        let error = await #expect(throws: AutoscalerError.self) { try await missing.create(name: nil) }
        #expect(error?.description.contains("webserver executable not found") == true)
        #expect(try await provider.instances().isEmpty)
    }

    @Test func failingChildLeavesNothingBehind() async throws {
        // `webserver` refuses an unknown flag and exits at once.
        let provider = try ProcessProvider(configuration: .init(stateDirectory: stateDirectory, extraArguments: ["--no-such-flag"]))
        let error = await #expect(throws: AutoscalerError.self) { try await provider.create(name: nil) }
        #expect(error?.description.contains("exited at start") == true)
        #expect(try await provider.instances().isEmpty)
    }
}
