import AutoscalerAPI
import InstanceProviders
import Foundation
import Logging
import Scheduler
import ServiceLifecycle
import TestSupport
import Testing

/// The scheduler with the libvirt provider on libvirt's test driver (real libvirt, simulated
/// hypervisor), from a private node file so that no other test's domains are visible. Its
/// domains never answer HTTP: a scale-up times out, and must be rolled back and recorded.
@Suite("scheduler with the libvirt provider on the test driver")
struct SchedulerLibvirtTests {
    static func nodeFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("node-\(UUID().uuidString).xml").path
        let xml = """
            <node>
              <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
                <name>ubuntu20.04-3_webTemplate</name>
                <memory unit='MiB'>64</memory>
                <os><type arch='x86_64'>hvm</type></os>
                <devices>
                  <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/default-pool/template.img'/><target dev='vda' bus='virtio'/></disk>
                  <interface type='user'><mac address='52:54:00:aa:00:01'/></interface>
                </devices>
                <test:runstate>5</test:runstate>
              </domain>
              <pool type='dir'>
                <name>default-pool</name>
                <target><path>/default-pool</path></target>
                <volume type='file'>
                  <name>template.img</name>
                  <capacity unit='bytes'>1048576</capacity>
                  <target><path>/default-pool/template.img</path></target>
                </volume>
              </pool>
            </node>
            """
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func failedScaleUpIsRolledBackRecordedAndBackedOff() async throws {
        let node = try Self.nodeFile()
        defer { try? FileManager.default.removeItem(atPath: node) }
        // A port range where nothing listens: a clone must not "serve" through someone else's port.
        let provider = try await LibvirtProvider(
            configuration: .init(uri: "test://\(node)", adopt: [], forwardPorts: 47_001...47_099))
        #expect(try await provider.templateExists())
        try await BalancerHarness.with(backends: 0) { lb in
            try await SchedulerLoopTests.withScheduler(lb, provider: provider) { configuration in
                configuration.interval = .milliseconds(200)
                configuration.startupTimeout = .seconds(1)
                configuration.rules.minimum = 1
            } _: { scheduler in
                try await waitUntil(10, "a failed scale-up") {
                    try scheduler.history.events(since: 0).contains { $0.kind == .failure }
                }
                // The clone that never served is gone again, and the next try waits (backoff).
                try await Task.sleep(for: .milliseconds(600))
                #expect(try await provider.instances().isEmpty)
                let events = try scheduler.history.events(since: 0)
                #expect(events.filter { $0.kind == .scaleUp }.count == 1, "\(events.map(\.reason))")
                let failure = try #require(events.first { $0.kind == .failure })
                #expect(failure.reason.contains("anything made was removed"))
                // A tick every 200 ms, but a loaded machine may be slower: waited for, not assumed.
                try await waitUntil(5, "a tick that says it backs off") { scheduler.status.lastDecision?.contains("backing off") == true }
            }
        }
        #expect(try await provider.instances().isEmpty)
    }
}
