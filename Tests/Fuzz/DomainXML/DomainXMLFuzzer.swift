import FuzzSupport
@testable import InstanceProviders
import Libvirt

/// A template's domain XML through the edits a clone makes (name, UUID, MACs, kernel command
/// line, port forward, disks, metadata), then parsed again; and our metadata element as read back
/// from a domain someone may have edited.
///
/// Invariants: the edited XML parses, has the new name, and every disk that needed a copy points
/// at its copy.
@main
enum DomainXMLFuzzer {
    static func main() {
        FuzzDriver.run { input in
            let text = input.text
            _ = InstanceMetadata(xml: text)
            guard let xml = try? DomainXML(text) else { return }
            let name = "web_vm7"
            xml.name = name
            xml.removeUUID()
            xml.replaceInterfaceMACs(LibvirtProvider.randomMAC)
            if let cmdline = xml.kernelCommandLine {
                xml.kernelCommandLine = LibvirtProvider.replacingInstanceName(in: cmdline, with: name)
            }
            let arguments = xml.qemuArguments
            if arguments.contains(where: { $0.contains("hostfwd=") }) {
                xml.qemuArguments = arguments.map { LibvirtProvider.replacingForward(in: $0, host: "127.0.0.1", port: 18_099, guestPort: 80) }
            }
            var copies: [String: String] = [:]
            for disk in xml.disks where disk.needsClone {
                let file = "/var/lib/libvirt/images/\(name)-\(disk.target).qcow2"
                guard (try? xml.setDiskSource(target: disk.target, file: file, format: "qcow2")) != nil else {
                    return FuzzDriver.require(false, "disk \(disk.target) listed but not found")
                }
                copies[disk.target] = file
            }
            let metadata = InstanceMetadata(
                origin: .created, host: "127.0.0.1", port: 18_099, template: "web_template", createdAt: nil, volumes: Array(copies.values), warm: nil)
            FuzzDriver.require((try? xml.setMetadata(metadata.xml, namespace: InstanceMetadata.namespace)) != nil, "our metadata refused")

            guard let again = try? DomainXML(xml.xmlString) else { return FuzzDriver.require(false, "the edited XML does not parse") }
            FuzzDriver.require(again.name == name, "the clone is named \(again.name ?? "nothing")")
            for (target, file) in copies {
                // The first disk with the target is the one edited; later duplicates stay as they were.
                let disk = again.disks.first { $0.target == target }
                FuzzDriver.require(disk?.sourceFile == file, "disk \(target) points at \(disk?.sourceFile ?? "nothing")")
            }
        }
    }
}
