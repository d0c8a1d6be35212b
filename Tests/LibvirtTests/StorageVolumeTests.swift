import Libvirt
import Testing

@Suite("Storage on test:///default")
struct StorageVolumeTests {
    let connection: LibvirtConnection
    let pool: StoragePool

    init() throws {
        connection = try LibvirtConnection(uri: TestDriver.uri)
        pool = try connection.storagePool(named: "default-pool")
    }

    @Test func createLookUpAndDelete() throws {
        let name = TestDriver.uniqueName("vol") + ".img"
        let volume = try pool.createVolume(xml: TestDriver.volumeXML(name: name, bytes: 4 << 20))
        let path = try volume.path()
        #expect(path == "/default-pool/\(name)")
        #expect(try volume.info().capacity == 4 << 20)
        #expect(try connection.storageVolume(path: path).name == name)
        #expect(try volume.pool().name == "default-pool")
        #expect(try volume.xml().contains(name))

        try volume.delete()
        let error = #expect(throws: LibvirtError.self) { try connection.storageVolume(path: path) }
        #expect(error?.code == .noStorageVolume)
    }

    @Test func copyMakesAnIndependentVolume() throws {
        let source = try pool.createVolume(xml: TestDriver.volumeXML(name: TestDriver.uniqueName("src") + ".img"))
        defer { try? source.delete() }
        let copyName = TestDriver.uniqueName("copy") + ".img"
        let copy = try pool.createVolume(xml: TestDriver.volumeXML(name: copyName), copying: source)
        #expect(try copy.path() != source.path())
        try copy.delete()
        #expect(try connection.storageVolume(path: source.path()).name == source.name)
    }

    @Test func duplicateVolumeNameFails() throws {
        let name = TestDriver.uniqueName("dup") + ".img"
        let volume = try pool.createVolume(xml: TestDriver.volumeXML(name: name))
        defer { try? volume.delete() }
        #expect(throws: LibvirtError.self) { try pool.createVolume(xml: TestDriver.volumeXML(name: name)) }
    }

    @Test func missingPoolIsTyped() {
        let error = #expect(throws: LibvirtError.self) { try connection.storagePool(named: "no-such-pool") }
        #expect(error?.code == .noStoragePool)
    }
}
