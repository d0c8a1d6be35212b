import BlockingIO
import Libvirt
import Testing

@Suite("LibvirtConnection on test:///default")
struct LibvirtConnectionTests {
    @Test func opensAndReportsItsURI() throws {
        let connection = try LibvirtConnection(uri: TestDriver.uri)
        #expect(try connection.canonicalURI() == "test:///default")
        #expect(connection.isAlive)
        #expect(!connection.isReadOnly)
        #expect(Libvirt.libraryVersion.split(separator: ".").count == 3)
    }

    @Test func readOnlyConnectionCannotDefine() throws {
        let connection = try LibvirtConnection(uri: TestDriver.uri, readOnly: true)
        #expect(connection.isReadOnly)
        let error = #expect(throws: LibvirtError.self) {
            try connection.defineDomain(xml: TestDriver.domainXML(name: TestDriver.uniqueName("ro")))
        }
        #expect(error?.code == .operationDenied)
    }

    @Test func unknownDriverIsATypedError() {
        let error = #expect(throws: LibvirtError.self) { try LibvirtConnection(uri: "nosuchdriver:///nothing") }
        #expect(error?.operation == "virConnectOpen")
        #expect(error?.isConnectionFailure == true)
        #expect(error?.message.isEmpty == false)
    }

    @Test func missingDomainIsNoDomain() throws {
        let connection = try LibvirtConnection(uri: TestDriver.uri)
        let error = #expect(throws: LibvirtError.self) { try connection.domain(named: "does-not-exist") }
        #expect(error?.code == .noDomain)
        #expect(try connection.domainIfExists(named: "does-not-exist") == nil)
    }

    @Test func listsDomainsWithFlags() throws {
        let connection = try LibvirtConnection(uri: TestDriver.uri)
        let name = TestDriver.uniqueName("list")
        let defined = try connection.defineDomain(xml: TestDriver.domainXML(name: name))
        defer { try? defined.undefine() }

        let all = try connection.domains().map(\.name)
        let active = try connection.domains(.active).map(\.name)
        let inactive = try connection.domains(.inactive).map(\.name)
        #expect(all.contains("test") && all.contains(name))
        #expect(active.contains("test") && !active.contains(name))
        #expect(inactive.contains(name) && !inactive.contains("test"))
    }

    @Test func errorsAreReadOnTheFailingThread() async throws {
        // Many threads failing different calls at once must each see their own error.
        let connection = try LibvirtConnection(uri: TestDriver.uri)
        let executor = BlockingExecutor(label: "test")
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<32 {
                group.addTask {
                    try await executor.run {
                        do {
                            if index.isMultiple(of: 2) {
                                _ = try connection.domain(named: "missing-\(index)")
                            } else {
                                _ = try connection.storageVolume(path: "/missing/\(index)")
                            }
                            return false
                        } catch {
                            let code = (error as? LibvirtError)?.code
                            return index.isMultiple(of: 2) ? code == .noDomain : code == .noStorageVolume
                        }
                    }
                }
            }
            for try await matched in group { #expect(matched) }
        }
    }
}
