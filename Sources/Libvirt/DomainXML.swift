import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A domain's XML, parsed for the edits a clone needs (what `virt-clone` does before it defines).
///
/// Not `Sendable`: parse, edit and serialize it within one call.
public final class DomainXML {
    /// qemu's namespace for `<qemu:commandline>` pass-through arguments.
    public static let qemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0"

    private let document: XMLDocument
    private var root: XMLElement

    /// Parses domain XML; throws ``DomainXMLError`` when it is not XML or not a `<domain>`.
    public init(_ xml: String) throws(DomainXMLError) {
        // FoundationXML crashes on empty input instead of throwing.
        guard xml.contains("<") else { throw .invalid("no XML element") }
        let document: XMLDocument
        do {
            document = try XMLDocument(xmlString: xml, options: [])
        } catch {
            throw .invalid("not valid XML: \(error)")
        }
        guard let root = document.rootElement(), root.name == "domain" else {
            throw .invalid("the root element is not <domain>")
        }
        self.document = document
        self.root = root
    }

    /// The XML text, ready for `virDomainDefineXML`.
    public var xmlString: String { document.xmlString(options: [.nodePrettyPrint]) }

    /// The domain's `type` attribute: `kvm`, `qemu`, `test`…
    public var type: String? { root.attribute(forName: "type")?.stringValue }

    /// The `<name>`.
    public var name: String? {
        get { child(root, "name")?.stringValue }
        set { ensureChild(root, "name").stringValue = newValue }
    }

    /// Removes `<uuid>`, so that libvirt gives the defined domain a new one.
    public func removeUUID() {
        removeChildren(root, "uuid")
    }

    /// The kernel command line of a direct-kernel-boot domain (`<os><cmdline>`).
    public var kernelCommandLine: String? {
        get { child(root, "os").flatMap { child($0, "cmdline") }?.stringValue }
        set {
            let os = ensureChild(root, "os")
            if let newValue { ensureChild(os, "cmdline").stringValue = newValue } else { removeChildren(os, "cmdline") }
        }
    }

    // MARK: Disks

    /// A `<disk>` of the domain.
    public struct Disk: Sendable, Hashable {
        /// `disk`, `cdrom`, `floppy` or `lun`.
        public var device: String
        /// The `<target dev=…>`, unique within the domain, e.g. `vda`.
        public var target: String
        /// The `<source file=…>` for file disks, nil for network or empty disks.
        public var sourceFile: String?
        /// The `<driver type=…>` image format, e.g. `qcow2` or `raw`.
        public var format: String?
        public var isReadOnly: Bool
        public var isShareable: Bool

        /// Whether a clone needs its own copy: writable file disks; read-only, shared disks and
        /// CD-ROMs stay shared, as `virt-clone` does.
        public var needsClone: Bool { device == "disk" && sourceFile != nil && !isReadOnly && !isShareable }
    }

    /// The domain's disks in document order.
    public var disks: [Disk] {
        elements(child(root, "devices"), "disk").compactMap { element in
            guard let target = child(element, "target")?.attribute(forName: "dev")?.stringValue else { return nil }
            return Disk(
                device: element.attribute(forName: "device")?.stringValue ?? "disk",
                target: target,
                sourceFile: child(element, "source")?.attribute(forName: "file")?.stringValue,
                format: child(element, "driver")?.attribute(forName: "type")?.stringValue,
                isReadOnly: child(element, "readonly") != nil,
                isShareable: child(element, "shareable") != nil)
        }
    }

    /// Points the disk with `target` at another file and format (a file-type disk from then on).
    public func setDiskSource(target: String, file: String, format: String) throws(DomainXMLError) {
        guard
            let disk = elements(child(root, "devices"), "disk").first(where: {
                child($0, "target")?.attribute(forName: "dev")?.stringValue == target
            })
        else { throw .missing("disk \(target)") }
        disk.setAttributesWith(["type": "file", "device": disk.attribute(forName: "device")?.stringValue ?? "disk"])
        removeChildren(disk, "source")
        let source = XMLElement(name: "source")
        source.addAttribute(attribute("file", file))
        disk.insertChild(source, at: 0)
        let driver = ensureChild(disk, "driver")
        if driver.attribute(forName: "name") == nil { driver.addAttribute(attribute("name", "qemu")) }
        driver.removeAttribute(forName: "type")
        driver.addAttribute(attribute("type", format))
    }

    // MARK: Network

    /// MAC addresses of the `<interface>` elements, in document order.
    public var interfaceMACs: [String] {
        elements(child(root, "devices"), "interface").compactMap {
            child($0, "mac")?.attribute(forName: "address")?.stringValue
        }
    }

    /// Gives every `<interface>` a new MAC address from `generate`.
    public func replaceInterfaceMACs(_ generate: () -> String) {
        for interface in elements(child(root, "devices"), "interface") {
            let mac = ensureChild(interface, "mac")
            mac.removeAttribute(forName: "address")
            mac.addAttribute(attribute("address", generate()))
        }
    }

    /// The `<qemu:commandline>` `<qemu:arg value=…>` values, in order.
    public var qemuArguments: [String] {
        get {
            qemuArgElements().compactMap { $0.attribute(forName: "value")?.stringValue }
        }
        set {
            let commandLine: XMLElement
            if let existing = root.children?.compactMap({ $0 as? XMLElement }).first(where: { isQemu($0, "commandline") }) {
                commandLine = existing
                for arg in qemuArgElements() { arg.detach() }
            } else {
                commandLine = XMLElement(name: "qemu:commandline")
                root.addChild(commandLine)
            }
            if root.namespace(forPrefix: "qemu") == nil {
                let namespace = XMLNode(kind: .namespace)
                namespace.name = "qemu"
                namespace.stringValue = Self.qemuNamespace
                root.addNamespace(namespace)
            }
            for value in newValue {
                let arg = XMLElement(name: "qemu:arg")
                arg.addAttribute(attribute("value", value))
                commandLine.addChild(arg)
            }
        }
    }

    // MARK: Metadata

    /// Replaces our element under `<metadata>` (matched by namespace) with `element`.
    ///
    /// Writing it into the XML before `define` makes the mark atomic with the domain's creation, so
    /// no crash can leave a domain of ours without it.
    public func setMetadata(_ element: String, namespace: String) throws(DomainXMLError) {
        let parsed: XMLElement
        do {
            parsed = try XMLElement(xmlString: element)
        } catch {
            throw .invalid("metadata is not an XML element: \(error)")
        }
        let metadata = ensureChild(root, "metadata")
        for existing in metadata.children?.compactMap({ $0 as? XMLElement }) ?? [] where existing.uri == namespace {
            existing.detach()
        }
        metadata.addChild(parsed)
    }

    // MARK: Helpers

    private func attribute(_ name: String, _ value: String) -> XMLNode {
        let node = XMLNode(kind: .attribute)
        node.name = name
        node.stringValue = value
        return node
    }

    private func isQemu(_ element: XMLElement, _ localName: String) -> Bool {
        element.localName == localName && (element.uri == Self.qemuNamespace || element.name == "qemu:\(localName)")
    }

    private func qemuArgElements() -> [XMLElement] {
        guard let commandLine = root.children?.compactMap({ $0 as? XMLElement }).first(where: { isQemu($0, "commandline") })
        else { return [] }
        return commandLine.children?.compactMap { $0 as? XMLElement }.filter { isQemu($0, "arg") } ?? []
    }

    private func elements(_ parent: XMLElement?, _ name: String) -> [XMLElement] {
        parent?.children?.compactMap { $0 as? XMLElement }.filter { $0.name == name } ?? []
    }

    private func child(_ parent: XMLElement, _ name: String) -> XMLElement? {
        elements(parent, name).first
    }

    private func ensureChild(_ parent: XMLElement, _ name: String) -> XMLElement {
        if let existing = child(parent, name) { return existing }
        let element = XMLElement(name: name)
        parent.addChild(element)
        return element
    }

    private func removeChildren(_ parent: XMLElement, _ name: String) {
        for element in elements(parent, name) { element.detach() }
    }
}

/// Domain XML that cannot be parsed or lacks what an edit needs.
public enum DomainXMLError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(String)
    case missing(String)

    public var description: String {
        switch self {
        case .invalid(let reason): "invalid domain XML: \(reason)"
        case .missing(let what): "domain XML has no \(what)"
        }
    }
}
