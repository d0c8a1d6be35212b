import AutoscalerAPI
import Foundation
import InstanceProviders
import Logging
import Testing

/// Several libvirt hosts, each its own test-driver node (one node file per host: a separate
/// hypervisor with its own template, pool and domains), behind one provider.
@Suite("several libvirt hosts on test-driver nodes")
struct MultiHostProviderTests {
    /// Writes a node file with a shut-off template and its disk; returns its `test://` URI.
    static func node(_ directory: String, _ name: String) throws -> String {
        let path = "\(directory)/\(name).xml"
        try """
            <node>
              <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
                <name>tpl</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>
                <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/default-pool/tpl.img'/><target dev='vda' bus='virtio'/></disk></devices>
                <test:runstate>5</test:runstate>
              </domain>
              <pool type='dir'><name>default-pool</name><target><path>/default-pool</path></target>
                <volume type='file'><name>tpl.img</name><capacity unit='bytes'>1048576</capacity><key>/default-pool/tpl.img</key><target><path>/default-pool/tpl.img</path></target></volume>
              </pool>
            </node>
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return "test://\(path)"
    }

    static func provider(hosts count: Int, _ placement: Placement) throws -> MultiHostProvider {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let hosts = try (1...count).map { index in
            MultiHostProvider.Host(
                label: "h\(index)", configuration: .init(uri: try node(directory, "h\(index)"), template: "tpl", adopt: []))
        }
        return try MultiHostProvider(hosts: hosts, placement: placement, logger: Logger(label: "test"))
    }

    static func perHost(_ provider: MultiHostProvider) async throws -> [String: [String]] {
        Dictionary(grouping: try await provider.instances(), by: { $0.host ?? "?" }).mapValues { $0.map(\.name).sorted() }
    }

    @Test func spreadPutsInstancesOnEveryHostWithNamesUniqueAcrossThem() async throws {
        let provider = try Self.provider(hosts: 3, Placement(rule: .spread))
        for _ in 0..<5 { _ = try await provider.create(name: nil) }
        let hosts = try await Self.perHost(provider)
        #expect(hosts.mapValues(\.count) == ["h1": 2, "h2": 2, "h3": 1], "\(hosts)")
        let names = hosts.values.flatMap { $0 }
        #expect(Set(names).count == 5 && Set(names) == Set((1...5).map { "web_vm\($0)" }))
        // Operations find the host an instance is on.
        let third = try await provider.instance(named: "web_vm3")
        #expect(third.host == "h3" && third.state == .running)
        try await provider.delete(name: "web_vm3")
        #expect(try await Self.perHost(provider)["h3"] == nil)
        // The freed host is the emptiest: the next one goes there, under the freed name.
        let next = try await provider.create(name: nil)
        #expect(next.host == "h3" && next.name == "web_vm3")
        await #expect(throws: AutoscalerError.nameTaken("web_vm1")) { try await provider.create(name: "web_vm1") }
    }

    @Test func packFillsTheFirstHostToItsMaximumAndSaysWhenAllAreFull() async throws {
        let provider = try Self.provider(hosts: 2, Placement(rule: .pack, hostMaximum: 2))
        for _ in 0..<4 { _ = try await provider.create(name: nil) }
        #expect(try await Self.perHost(provider) == ["h1": ["web_vm1", "web_vm2"], "h2": ["web_vm3", "web_vm4"]])
        await #expect(throws: AutoscalerError.self) { try await provider.create(name: nil) }
    }

    @Test func concurrentCreatesNeverShareANameAndStillSpread() async throws {
        let provider = try Self.provider(hosts: 2, Placement(rule: .spread))
        try await withThrowingTaskGroup(of: Instance.self) { group in
            for _ in 0..<6 { group.addTask { try await provider.create(name: nil) } }
            var names: [String] = []
            for try await instance in group { names.append(instance.name) }
            #expect(Set(names).count == 6, "\(names.sorted())")
        }
        // Placed at once, they spread as if one after another.
        #expect(try await Self.perHost(provider).mapValues(\.count) == ["h1": 3, "h2": 3])
    }

    @Test func anUnreachableHostIsLeftOutAndNewInstancesGoElsewhere() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let provider = try MultiHostProvider(
            hosts: [
                .init(label: "gone", configuration: .init(uri: "qemu:///system?socket=/nonexistent/sock", template: "tpl", adopt: [])),
                .init(label: "up", configuration: .init(uri: try Self.node(directory, "up"), template: "tpl", adopt: [])),
            ], placement: Placement(rule: .spread), logger: Logger(label: "test"))
        let instance = try await provider.create(name: nil)
        #expect(instance.host == "up")
        #expect(try await provider.instances().map(\.host) == ["up"])
        // Said once, for the scheduler's events: silent (nothing to keep: it was never listed).
        let events = provider.takeEvents()
        #expect(events.count == 1 && events.first?.host == "gone" && events.first?.event == .silent(instances: 0), "\(events)")
        #expect(provider.takeEvents().isEmpty)
    }
}
