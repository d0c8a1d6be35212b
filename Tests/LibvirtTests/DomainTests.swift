import Libvirt
import Testing

@Suite("Domain on test:///default")
struct DomainTests {
    let connection: LibvirtConnection

    init() throws {
        connection = try LibvirtConnection(uri: TestDriver.uri)
    }

    @Test func lifecycle() throws {
        let name = TestDriver.uniqueName("life")
        let domain = try connection.defineDomain(xml: TestDriver.domainXML(name: name))
        #expect(domain.name == name)
        #expect(domain.isPersistent)
        #expect(try domain.state() == .shutOff)

        try domain.start()
        #expect(try domain.state() == .running)
        #expect(domain.isActive)

        try domain.suspend()
        #expect(try domain.state() == .paused)
        try domain.resume()
        #expect(try domain.state() == .running)

        try domain.shutdown()
        #expect(try domain.state() == .shutOff)

        try domain.start()
        try domain.destroy()
        #expect(try domain.state() == .shutOff)

        try domain.undefine()
        #expect(try connection.domainIfExists(named: name) == nil)
    }

    @Test func lookupByUUIDFindsTheSameDomain() throws {
        let domain = try connection.domain(named: "test")
        let uuid = try domain.uuid()
        #expect(uuid.count == 36)
        #expect(try connection.domain(uuid: uuid).name == "test")
    }

    @Test func startingARunningDomainFails() throws {
        let error = #expect(throws: LibvirtError.self) { try connection.domain(named: "test").start() }
        #expect(error?.operation == "virDomainCreate")
        #expect(error?.message.contains("running") == true)
    }

    @Test func definingTheSameNameTwiceWithAnotherUUIDFails() throws {
        let name = TestDriver.uniqueName("dup")
        let first = try connection.defineDomain(xml: TestDriver.domainXML(name: name))
        defer { try? first.undefine() }
        let withUUID = TestDriver.domainXML(name: name).replacingOccurrences(
            of: "<name>", with: "<uuid>00000000-0000-4000-8000-000000000001</uuid><name>")
        #expect(throws: LibvirtError.self) { try connection.defineDomain(xml: withUUID) }
    }

    @Test func invalidXMLIsATypedError() {
        let error = #expect(throws: LibvirtError.self) { try connection.defineDomain(xml: "<domain type='test'><oops") }
        #expect(error?.code == .xmlDetail || error?.code == .xmlError)
    }

    @Test func inactiveXMLHasTheDefinition() throws {
        let name = TestDriver.uniqueName("xml")
        let domain = try connection.defineDomain(xml: TestDriver.domainXML(name: name, mac: "52:54:00:01:02:03"))
        defer { try? domain.undefine() }
        let xml = try domain.inactiveXML()
        #expect(xml.contains("<name>\(name)</name>"))
        #expect(xml.contains("52:54:00:01:02:03"))
    }

    @Test func metadataRoundTrip() throws {
        let name = TestDriver.uniqueName("meta")
        let domain = try connection.defineDomain(xml: TestDriver.domainXML(name: name))
        defer { try? domain.undefine() }
        let namespace = "http://example.localhost/ns/1"
        #expect(try domain.metadata(uri: namespace) == nil)

        try domain.setMetadata("<thing answer=\"42\"/>", key: "ex", uri: namespace)
        let read = try #require(try domain.metadata(uri: namespace))
        #expect(read.contains("answer=\"42\""))
        #expect(try domain.inactiveXML().contains(namespace))

        try domain.setMetadata(nil, key: "ex", uri: namespace)
        #expect(try domain.metadata(uri: namespace) == nil)
    }

    @Test func interfaceAddressesOfARunningDomain() throws {
        let addresses = try connection.domain(named: "test").interfaceAddresses()
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { !$0.address.isEmpty && !$0.interface.isEmpty })
    }
}
