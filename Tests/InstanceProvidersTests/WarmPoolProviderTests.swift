import AutoscalerAPI
import AutoscalerClient
import Foundation
import InstanceProviders
import Libvirt
import Logging
import Testing

/// Warm-pool members through both providers: held out of service, found again by a new provider
/// (a restarted scheduler), brought back serving, deleted with everything.
@Suite("warm pool, process provider")
struct ProcessWarmPoolTests {
    let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("autoscaler-warm-\(UUID().uuidString)").path

    @Test func aStoppedMemberServesNothingUntilReleasedAndIsAdopted() async throws {
        let provider = try ProcessProvider(configuration: .init(stateDirectory: stateDirectory))
        let actions = ScalingActions(provider: provider, logger: Logger(label: "test"))
        let member = try await actions.prepare(as: .paused, timeout: .seconds(10))
        #expect(member.warm == .paused && member.state == .paused)
        let endpoint = try #require(member.endpoint)
        // Stopped: it accepts the connection (the kernel does) but never answers.
        #expect(await !HTTPProbe(path: "/healthz", requestTimeout: .milliseconds(300)).check(endpoint))
        // Not what a scale-down picks, and a new provider over the same state sees the member.
        await #expect(throws: AutoscalerError.noManagedInstance) { try await provider.newestCreatedInstance() }
        let adopter = try ProcessProvider(configuration: .init(stateDirectory: stateDirectory))
        #expect(try await adopter.instances().map(\.warm) == [.paused])

        let clock = ContinuousClock()
        let serving = try await ScalingActions(provider: adopter, logger: Logger(label: "test")).launch(fromPool: member.name, timeout: .seconds(5))
        #expect(serving.warm == nil && serving.state == .running && serving.endpoint == endpoint)
        #expect(await HTTPProbe(path: "/healthz").check(endpoint))
        // Back to the pool, then deleted while stopped: SIGTERM alone would wait for a SIGCONT.
        // Asked to save it, a process can only stop it: recorded as paused.
        try await actions.returnToPool(member.name, as: .saved, drainTimeout: .seconds(1))
        let returned = try await provider.instance(named: member.name)
        #expect(returned.warm == .paused && returned.held && returned.state == .paused)
        let deleting = clock.now
        try await provider.delete(name: member.name)
        #expect(clock.now - deleting < .seconds(4))
        #expect(try await provider.instances().isEmpty)
    }

    @Test func aMemberWhoseProcessDiedIsDeletedWhenTaken() async throws {
        let provider = try ProcessProvider(configuration: .init(stateDirectory: stateDirectory))
        let actions = ScalingActions(provider: provider, logger: Logger(label: "test"))
        let member = try await actions.prepare(as: .paused, timeout: .seconds(10))
        let pidText = try String(contentsOfFile: "\(stateDirectory)/instances/\(member.name).json", encoding: .utf8)
        let match = try #require(pidText.firstMatch(of: /"pid"\s*:\s*(\d+)/))
        let pid = try #require(Int32(match.1))
        kill(pid, SIGKILL)
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: AutoscalerError.self) { try await actions.launch(fromPool: member.name, timeout: .seconds(2)) }
        #expect(try await provider.instances().isEmpty)
    }
}

/// The libvirt provider's warm pool on `test:///default`: paused (suspend) and saved (managed
/// save) members, their mark in the metadata of both the live domain and its definition.
@Suite("warm pool, libvirt provider on test:///default", .serialized)
struct LibvirtWarmPoolTests {
    let connection: LibvirtConnection
    let template: String
    let prefix: String

    init() throws {
        connection = try LibvirtConnection(uri: "test:///default")
        let pool = try connection.storagePool(named: "default-pool")
        let id = UUID().uuidString.prefix(8).lowercased()
        template = "tplw-\(id)"
        prefix = "w\(id)_vm"
        let disk = try pool.createVolume(xml: "<volume><name>\(template).img</name><capacity unit='bytes'>1048576</capacity></volume>")
        _ = try connection.defineDomain(
            xml: """
                <domain type='test'><name>\(template)</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>
                <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(try disk.path())'/><target dev='vda' bus='virtio'/></disk></devices>
                </domain>
                """)
    }

    func provider() async throws -> LibvirtProvider {
        try await LibvirtProvider(configuration: .init(uri: "test:///default", template: template, naming: InstanceNaming(prefix: prefix), adopt: []))
    }

    @Test(arguments: [WarmState.paused, .saved])
    func heldReleasedAndFoundAgain(state: WarmState) async throws {
        let provider = try await provider()
        let actions = ScalingActions(provider: provider, logger: Logger(label: "test"))
        let member = try await actions.prepare(as: state, timeout: .seconds(5))
        let domain = try connection.domain(named: member.name)
        #expect(member.warm == state)
        #expect(try domain.state() == (state == .paused ? .paused : .shutOff))
        if state == .saved { #expect(try domain.hasManagedSaveImage()) }
        // The mark is in the definition too, so a saved (stopped) member keeps it.
        let definition = try #require(try domain.metadata(uri: InstanceMetadata.namespace, impact: .config))
        #expect(InstanceMetadata(xml: definition)?.warm == state)
        // A new provider (a restarted scheduler) finds it as a member; scale-down by hand skips it.
        let again = try await self.provider()
        #expect(try await again.instance(named: member.name).warm == state)
        // (Other suites' instances share the test driver: only say it is not the member.)
        #expect((try? await again.newestCreatedInstance())?.name != member.name)

        let serving = try await ScalingActions(provider: again, logger: Logger(label: "test")).launch(fromPool: member.name, timeout: .seconds(5))
        #expect(serving.warm == nil && serving.state == .running)
        #expect(try domain.state() == .running)
        #expect(try !domain.hasManagedSaveImage())
        try await provider.delete(name: member.name)
        #expect(try connection.domainIfExists(named: member.name) == nil)
    }
}
