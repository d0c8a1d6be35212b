import CLibXML2

/// A domain's XML, parsed for the edits a clone needs (what `virt-clone` does before it defines).
///
/// Not `Sendable`: parse, edit and serialize it within one call.
public final class DomainXML {
    /// qemu's namespace for `<qemu:commandline>` pass-through arguments.
    public static let qemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0"

    private let tree: XMLTree

    /// Parses domain XML; throws ``DomainXMLError`` when it is not XML or not a `<domain>`.
    public init(_ xml: String) throws(DomainXMLError) {
        guard let tree = XMLTree(xml) else { throw .invalid("not well-formed XML") }
        guard XMLTree.name(tree.root) == "domain" else { throw .invalid("the root element is not <domain>") }
        self.tree = tree
    }

    /// The XML text, ready for `virDomainDefineXML`.
    public var xmlString: String { tree.text }

    private var root: UnsafeMutablePointer<_xmlNode> { tree.root }
    private var devices: UnsafeMutablePointer<_xmlNode>? { XMLTree.child(root, "devices") }

    /// The domain's `type` attribute: `kvm`, `qemu`, `test`…
    public var type: String? { XMLTree.attribute(root, "type") }

    /// The `<name>`.
    public var name: String? {
        get { XMLTree.content(XMLTree.child(root, "name")) }
        set { tree.setContent(tree.ensureChild(root, "name"), newValue ?? "") }
    }

    /// Removes `<uuid>`, so that libvirt gives the defined domain a new one.
    public func removeUUID() {
        XMLTree.elements(root, "uuid").forEach(XMLTree.remove)
    }

    /// The kernel command line of a direct-kernel-boot domain (`<os><cmdline>`).
    public var kernelCommandLine: String? {
        get { XMLTree.content(XMLTree.child(XMLTree.child(root, "os"), "cmdline")) }
        set {
            let os = tree.ensureChild(root, "os")
            if let newValue {
                tree.setContent(tree.ensureChild(os, "cmdline"), newValue)
            } else {
                XMLTree.elements(os, "cmdline").forEach(XMLTree.remove)
            }
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
        XMLTree.elements(devices, "disk").compactMap { element in
            guard let target = XMLTree.attribute(XMLTree.child(element, "target"), "dev") else { return nil }
            return Disk(
                device: XMLTree.attribute(element, "device") ?? "disk",
                target: target,
                sourceFile: XMLTree.attribute(XMLTree.child(element, "source"), "file"),
                format: XMLTree.attribute(XMLTree.child(element, "driver"), "type"),
                isReadOnly: XMLTree.child(element, "readonly") != nil,
                isShareable: XMLTree.child(element, "shareable") != nil)
        }
    }

    /// Points the disk with `target` at another file and format (a file-type disk from then on).
    public func setDiskSource(target: String, file: String, format: String) throws(DomainXMLError) {
        guard
            let disk = XMLTree.elements(devices, "disk").first(where: {
                XMLTree.attribute(XMLTree.child($0, "target"), "dev") == target
            })
        else { throw .missing("disk \(target)") }
        XMLTree.setAttribute(disk, "type", "file")
        XMLTree.elements(disk, "source").forEach(XMLTree.remove)
        XMLTree.setAttribute(tree.ensureChild(disk, "source"), "file", file)
        let driver = tree.ensureChild(disk, "driver")
        if XMLTree.attribute(driver, "name") == nil { XMLTree.setAttribute(driver, "name", "qemu") }
        XMLTree.setAttribute(driver, "type", format)
    }

    // MARK: Network

    /// MAC addresses of the `<interface>` elements, in document order.
    public var interfaceMACs: [String] {
        XMLTree.elements(devices, "interface").compactMap { XMLTree.attribute(XMLTree.child($0, "mac"), "address") }
    }

    /// Gives every `<interface>` a new MAC address from `generate`.
    public func replaceInterfaceMACs(_ generate: () -> String) {
        for interface in XMLTree.elements(devices, "interface") {
            XMLTree.setAttribute(tree.ensureChild(interface, "mac"), "address", generate())
        }
    }

    /// The `<qemu:commandline>` `<qemu:arg value=…>` values, in order.
    public var qemuArguments: [String] {
        get {
            qemuElements(commandLine(), "arg").compactMap { XMLTree.attribute($0, "value") }
        }
        set {
            let namespace = tree.namespace(uri: Self.qemuNamespace, prefix: "qemu")
            let commandLine = commandLine() ?? tree.appendElement(root, "commandline", namespace: namespace)
            qemuElements(commandLine, "arg").forEach(XMLTree.remove)
            for value in newValue {
                XMLTree.setAttribute(tree.appendElement(commandLine, "arg", namespace: namespace), "value", value)
            }
        }
    }

    private func commandLine() -> UnsafeMutablePointer<_xmlNode>? {
        qemuElements(root, "commandline").first
    }

    private func qemuElements(_ parent: UnsafeMutablePointer<_xmlNode>?, _ name: String) -> [UnsafeMutablePointer<_xmlNode>] {
        XMLTree.elements(parent).filter { XMLTree.name($0) == name && XMLTree.namespaceURI($0) == Self.qemuNamespace }
    }

    // MARK: Metadata

    /// Replaces our element under `<metadata>` (matched by namespace) with `element`.
    ///
    /// Writing it into the XML before `define` makes the mark atomic with the domain's creation, so
    /// no crash can leave a domain of ours without it.
    public func setMetadata(_ element: String, namespace: String) throws(DomainXMLError) {
        guard let parsed = XMLTree(element) else { throw .invalid("metadata is not an XML element") }
        guard XMLTree.namespaceURI(parsed.root) == namespace else { throw .invalid("metadata element is not in \(namespace)") }
        let metadata = tree.ensureChild(root, "metadata")
        XMLTree.elements(metadata).filter { XMLTree.namespaceURI($0) == namespace }.forEach(XMLTree.remove)
        tree.appendCopy(of: parsed, to: metadata)
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
