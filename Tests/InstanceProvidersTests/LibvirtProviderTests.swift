import AutoscalerAPI
import InstanceProviders
import Foundation
import Libvirt
import Logging
import Testing

/// The libvirt provider against `test:///default`: real libvirt, simulated hypervisor.
///
/// Serialized: the provider lists every domain that carries our metadata, so parallel tests would
/// see (and scale down) each other's instances in the shared driver state.
@Suite("LibvirtProvider on test:///default", .serialized)
struct LibvirtProviderTests {
    let connection: LibvirtConnection
    let pool: StoragePool
    let template: String
    let prefix: String

    /// Defines a shut-off template with one disk in `default-pool`, unique to this test.
    init() throws {
        connection = try LibvirtConnection(uri: "test:///default")
        pool = try connection.storagePool(named: "default-pool")
        let id = UUID().uuidString.prefix(8).lowercased()
        template = "tpl-\(id)"
        prefix = "t\(id)_vm"
        let disk = try pool.createVolume(xml: "<volume><name>\(template).img</name><capacity unit='bytes'>1048576</capacity></volume>")
        _ = try connection.defineDomain(
            xml: """
                <domain type='test'>
                  <name>\(template)</name>
                  <memory unit='MiB'>64</memory>
                  <os><type arch='x86_64'>hvm</type></os>
                  <devices>
                    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(try disk.path())'/><target dev='vda' bus='virtio'/></disk>
                    <interface type='user'><mac address='52:54:00:aa:00:01'/></interface>
                  </devices>
                </domain>
                """)
    }

    func provider(diskMode: LibvirtProvider.DiskMode = .overlay, template: String? = nil) async throws -> LibvirtProvider {
        try await LibvirtProvider(
            configuration: .init(
                uri: "test:///default", template: template ?? self.template, naming: InstanceNaming(prefix: prefix), adopt: [],
                diskMode: diskMode))
    }

    func volumeNames() throws -> Set<String> {
        // The test driver has no pool listing in the wrapper; probe the names a clone would use.
        Set((1...4).compactMap { n in try? pool.volume(named: "\(prefix)\(n)-vda.qcow2").name })
            .union((1...4).compactMap { n in try? pool.volume(named: "\(prefix)\(n)-vda.img").name })
    }

    @Test func clonesStartsListsAndDeletes() async throws {
        let provider = try await provider()
        let instance = try await provider.create(name: nil)
        #expect(instance.name == "\(prefix)1")
        #expect(instance.origin == .created)
        #expect(instance.state == .running)

        let domain = try connection.domain(named: instance.name)
        #expect(try domain.state() == .running)
        let xml = try DomainXML(domain.inactiveXML())
        #expect(xml.disks.first?.sourceFile == "/default-pool/\(prefix)1-vda.qcow2")
        #expect(xml.interfaceMACs.count == 1 && xml.interfaceMACs != ["52:54:00:aa:00:01"])
        let metadataXML = try #require(try domain.metadata(uri: InstanceMetadata.namespace))
        let metadata = try #require(InstanceMetadata(xml: metadataXML))
        #expect(metadata.origin == .created)
        #expect(metadata.template == template)
        #expect(metadata.volumes == ["/default-pool/\(prefix)1-vda.qcow2"])
        #expect(try volumeNames() == ["\(prefix)1-vda.qcow2"])

        let second = try await provider.create(name: nil)
        #expect(second.name == "\(prefix)2")
        let listed = try await provider.instances().map(\.name)
        #expect(listed.contains(instance.name) && listed.contains(second.name))
        #expect(!listed.contains(template))

        // The test driver's guests get no endpoint (their made-up 192.168 addresses must never be
        // contacted); serving there means running, and a stopped one is refused.
        #expect(instance.endpoint == nil && second.endpoint == nil)
        try await provider.waitUntilServing(instance, timeout: .seconds(1))
        try connection.domain(named: second.name).destroy()
        await #expect(throws: AutoscalerError.provider("\(second.name) is stopped, not running")) {
            try await provider.waitUntilServing(second, timeout: .seconds(1))
        }

        try await provider.delete(name: instance.name)
        try await provider.delete(name: second.name)
        #expect(try connection.domainIfExists(named: instance.name) == nil)
        #expect(try volumeNames().isEmpty)
    }

    @Test func fullCopyMode() async throws {
        let provider = try await provider(diskMode: .copy)
        let instance = try await provider.create(name: nil)
        #expect(try volumeNames() == ["\(prefix)1-vda.img"])
        try await provider.delete(name: instance.name)
        #expect(try volumeNames().isEmpty)
    }

    @Test func explicitNameAndNameTaken() async throws {
        let provider = try await provider()
        let name = "\(prefix)42"
        let instance = try await provider.create(name: name)
        #expect(instance.name == name)
        await #expect(throws: AutoscalerError.nameTaken(name)) { try await provider.create(name: name) }
        await #expect(throws: AutoscalerError.nameTaken(template)) { try await provider.create(name: template) }
        await #expect(throws: AutoscalerError.invalidName("a b")) { try await provider.create(name: "a b") }
        try await provider.delete(name: name)
    }

    @Test func missingTemplate() async throws {
        let provider = try await provider(template: "no-such-template-\(prefix)")
        await #expect(throws: AutoscalerError.templateMissing("no-such-template-\(prefix)")) { try await provider.create(name: nil) }
    }

    @Test func runningTemplateIsRefused() async throws {
        let provider = try await provider()
        try connection.domain(named: template).start()
        defer { try? connection.domain(named: template).destroy() }
        await #expect(throws: AutoscalerError.templateRunning(template)) { try await provider.create(name: nil) }
        #expect(try volumeNames().isEmpty)
    }

    @Test func refusesToDeleteWhatItDidNotCreate() async throws {
        let provider = try await provider()
        await #expect(throws: AutoscalerError.notManaged("test")) { try await provider.delete(name: "test") }
        await #expect(throws: AutoscalerError.notManaged(template)) { try await provider.delete(name: template) }
        await #expect(throws: AutoscalerError.notManaged("test")) { try await provider.stop(name: "test", timeout: .seconds(1)) }
        await #expect(throws: AutoscalerError.notFound("nope-\(prefix)")) { try await provider.delete(name: "nope-\(prefix)") }
        #expect(try connection.domain(named: "test").state() == .running)
    }

    @Test func adoptedAndFoundDomainsAreListedButProtected() async throws {
        let found = "\(prefix)found"
        let domain = try connection.defineDomain(
            xml: "<domain type='test'><name>\(found)</name><memory>65536</memory><os><type>hvm</type></os></domain>")
        defer { try? domain.undefine() }
        try domain.setMetadata(InstanceMetadata(origin: .found, port: 18999).bareXML, key: "autoscaler", uri: InstanceMetadata.namespace)
        let provider = try await provider()
        let instance = try #require(try await provider.instances().first { $0.name == found })
        #expect(instance.origin == .found)
        #expect(instance.endpoint == Endpoint(host: "127.0.0.1", port: 18999))
        #expect(instance.state == .stopped)
        await #expect(throws: AutoscalerError.notManaged(found)) { try await provider.delete(name: found) }
        await #expect(throws: AutoscalerError.noManagedInstance) { try await provider.newestCreatedInstance() }
    }

    @Test func failurePartWayRemovesWhatWasMade() async throws {
        // A second disk outside any pool makes the clone fail after the first volume was made.
        let broken = "\(template)-broken"
        let disk = try connection.storageVolume(path: "/default-pool/\(template).img")
        _ = try connection.defineDomain(
            xml: """
                <domain type='test'>
                  <name>\(broken)</name><memory>65536</memory><os><type>hvm</type></os>
                  <devices>
                    <disk type='file' device='disk'><source file='\(try disk.path())'/><target dev='vda'/></disk>
                    <disk type='file' device='disk'><source file='/not/in/a/pool.img'/><target dev='vdb'/></disk>
                  </devices>
                </domain>
                """)
        defer { try? connection.domain(named: broken).undefine() }
        let provider = try await provider(template: broken)
        let error = await #expect(throws: AutoscalerError.self) { try await provider.create(name: nil) }
        #expect(error?.description.contains("not in a libvirt storage pool") == true)
        #expect(try volumeNames().isEmpty)
        #expect(try connection.domainIfExists(named: "\(prefix)1") == nil)
    }

    @Test func unreachableDaemonIsHypervisorUnavailable() async throws {
        let error = await #expect(throws: AutoscalerError.self) {
            try await LibvirtProvider(configuration: .init(uri: "qemu:///system?socket=/nonexistent/libvirt-sock"))
        }
        #expect(error?.exitCode == 3)
        #expect(error?.description.contains("libvirtd -d") == true)
    }

    @Test func scaleDownPicksTheNewestCreated() async throws {
        let provider = try await provider()
        let scaling = ScalingActions(provider: provider, logger: Logger(label: "test"))
        let first = try await scaling.add(timeout: .seconds(1))
        let second = try await scaling.add(timeout: .seconds(1))
        #expect(try await scaling.remove(drainTimeout: .seconds(1)).name == second.name)
        #expect(try await scaling.remove(drainTimeout: .seconds(1)).name == first.name)
        await #expect(throws: AutoscalerError.noManagedInstance) { try await scaling.remove(drainTimeout: .seconds(1)) }
    }
}
