import Libvirt
import Testing

@Suite("DomainXML edits")
struct DomainXMLTests {
    static let template = """
        <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
          <name>tpl</name>
          <uuid>11111111-2222-3333-4444-555555555555</uuid>
          <os><type>hvm</type><kernel>/k</kernel><cmdline>console=ttyS0 autoscaler.instance=tpl</cmdline></os>
          <devices>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/tpl.qcow2'/><target dev='vda' bus='virtio'/></disk>
            <disk type='file' device='cdrom'><source file='/img/cd.iso'/><target dev='hdc'/><readonly/></disk>
            <disk type='file' device='disk'><source file='/img/shared.img'/><target dev='vdb'/><shareable/></disk>
            <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>
          </devices>
          <qemu:commandline>
            <qemu:arg value='-netdev'/>
            <qemu:arg value='user,id=n0,hostfwd=tcp:127.0.0.1:18080-:80'/>
          </qemu:commandline>
        </domain>
        """

    @Test func readsNameTypeAndCommandLine() throws {
        let xml = try DomainXML(Self.template)
        #expect(xml.name == "tpl")
        #expect(xml.type == "qemu")
        #expect(xml.kernelCommandLine == "console=ttyS0 autoscaler.instance=tpl")
        #expect(xml.qemuArguments == ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:18080-:80"])
    }

    @Test func onlyWritableDisksNeedAClone() throws {
        let disks = try DomainXML(Self.template).disks
        #expect(disks.map(\.target) == ["vda", "hdc", "vdb"])
        #expect(disks.filter(\.needsClone).map(\.target) == ["vda"])
        #expect(disks[0].format == "qcow2")
        #expect(disks[1].isReadOnly && disks[2].isShareable)
    }

    @Test func cloneEditsSurviveASerializationRoundTrip() throws {
        let xml = try DomainXML(Self.template)
        xml.name = "web_vm3"
        xml.removeUUID()
        xml.replaceInterfaceMACs { "52:54:00:12:34:56" }
        xml.qemuArguments = ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:18083-:80"]
        try xml.setDiskSource(target: "vda", file: "/img/web_vm3-vda.qcow2", format: "qcow2")
        try xml.setMetadata("<a:instance xmlns:a='urn:test' origin='created'/>", namespace: "urn:test")

        let reparsed = try DomainXML(xml.xmlString)
        #expect(reparsed.name == "web_vm3")
        #expect(!xml.xmlString.contains("<uuid>"))
        #expect(reparsed.interfaceMACs == ["52:54:00:12:34:56"])
        #expect(reparsed.qemuArguments.last == "user,id=n0,hostfwd=tcp:127.0.0.1:18083-:80")
        #expect(reparsed.disks.first?.sourceFile == "/img/web_vm3-vda.qcow2")
        #expect(reparsed.disks[1].sourceFile == "/img/cd.iso")
        #expect(xml.xmlString.contains("urn:test"))
    }

    @Test func metadataIsReplacedNotDuplicated() throws {
        let xml = try DomainXML(Self.template)
        try xml.setMetadata("<a:instance xmlns:a='urn:test' origin='found'/>", namespace: "urn:test")
        try xml.setMetadata("<a:instance xmlns:a='urn:test' origin='created'/>", namespace: "urn:test")
        let text = xml.xmlString
        #expect(text.components(separatedBy: "urn:test").count == 2)
        #expect(text.contains("created") && !text.contains("found"))
    }

    @Test func addsQemuCommandLineWhenMissing() throws {
        let xml = try DomainXML("<domain type='qemu'><name>x</name></domain>")
        xml.qemuArguments = ["-snapshot"]
        let reparsed = try DomainXML(xml.xmlString)
        #expect(reparsed.qemuArguments == ["-snapshot"])
        #expect(xml.xmlString.contains("http://libvirt.org/schemas/domain/qemu/1.0"))
    }

    @Test(arguments: ["", "plain text", "<notadomain/>", "<domain><unclosed>", "<domain>&bogus;</domain>"])
    func rejectsWhatIsNotADomain(_ text: String) {
        #expect(throws: DomainXMLError.self) { try DomainXML(text) }
    }

    @Test func missingDiskTargetIsAnError() throws {
        let xml = try DomainXML(Self.template)
        #expect(throws: DomainXMLError.missing("disk vdz")) { try xml.setDiskSource(target: "vdz", file: "/x", format: "raw") }
    }
}

@Suite("XMLElementSnapshot")
struct XMLElementSnapshotTests {
    @Test func readsNamespaceAttributesAndChildren() throws {
        let element = try #require(
            XMLElementSnapshot(parsing: "<a:x xmlns:a='urn:t' k='v &amp; w'><a:y p='1'/>text<z/></a:x>"))
        #expect(element.name == "x")
        #expect(element.namespaceURI == "urn:t")
        #expect(element.attributes == ["k": "v & w"])
        #expect(element.children.map(\.name) == ["y", "z"])
        #expect(element.children[0].attributes["p"] == "1")
    }

    @Test(arguments: ["", "nope", "<a>", "<a></b>"])
    func rejectsMalformed(_ text: String) {
        #expect(XMLElementSnapshot(parsing: text) == nil)
    }
}
