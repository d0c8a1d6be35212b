@preconcurrency import CLibXML2

/// A parsed XML document owned by libxml2, freed in `deinit`, with the few edits domain XML needs.
///
/// Nodes are `xmlNodePtr`s into the tree: valid only while this object lives, so they never leave
/// it. libxml2 directly, not FoundationXML, whose Linux implementation never frees a parsed tree.
final class XMLTree {
    let document: xmlDocPtr
    /// The root element; nothing here replaces it.
    let root: xmlNodePtr

    /// Parses `text` strictly (no recovery, no network, no messages on stderr).
    init?(_ text: String) {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let bytes = Array(text.utf8)
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { xmlReadMemory($0.baseAddress, Int32($0.count), nil, "UTF-8", options) }
        }
        guard let parsed else { return nil }
        guard let root = xmlDocGetRootElement(parsed) else {
            xmlFreeDoc(parsed)
            return nil
        }
        document = parsed
        self.root = root
    }

    deinit {
        xmlFreeDoc(document)
    }

    /// The document as text, indented.
    var text: String {
        var buffer: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpFormatMemory(document, &buffer, &size, 1)
        guard let buffer else { return "" }
        defer { xmlFree(buffer) }
        return String(decoding: UnsafeBufferPointer(start: buffer, count: Int(size)), as: UTF8.self)
    }

    // MARK: Reading

    static func name(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    static func namespaceURI(_ node: xmlNodePtr) -> String? {
        node.pointee.ns?.pointee.href.map { String(cString: $0) }
    }

    static func elements(_ parent: xmlNodePtr?) -> [xmlNodePtr] {
        var result: [xmlNodePtr] = []
        var child = parent?.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { result.append(node) }
            child = node.pointee.next
        }
        return result
    }

    /// Child elements named `name` without a namespace (libvirt's own elements).
    static func elements(_ parent: xmlNodePtr?, _ name: String) -> [xmlNodePtr] {
        elements(parent).filter { self.name($0) == name && $0.pointee.ns == nil }
    }

    static func child(_ parent: xmlNodePtr?, _ name: String) -> xmlNodePtr? {
        elements(parent, name).first
    }

    static func attribute(_ node: xmlNodePtr?, _ name: String) -> String? {
        guard let node, let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { xmlFree(value) }
        return String(cString: value)
    }

    static func content(_ node: xmlNodePtr?) -> String? {
        guard let node, let value = xmlNodeGetContent(node) else { return nil }
        defer { xmlFree(value) }
        return String(cString: value)
    }

    // MARK: Editing

    static func setAttribute(_ node: xmlNodePtr, _ name: String, _ value: String) {
        xmlSetProp(node, name, value)
    }

    static func removeAttribute(_ node: xmlNodePtr, _ name: String) {
        xmlUnsetProp(node, name)
    }

    /// Replaces the node's children with one text node (escaped as needed).
    func setContent(_ node: xmlNodePtr, _ value: String) {
        while let child = node.pointee.children {
            xmlUnlinkNode(child)
            xmlFreeNode(child)
        }
        xmlAddChild(node, xmlNewDocText(document, value))
    }

    /// The first child element `name`, made (appended) when missing.
    func ensureChild(_ parent: xmlNodePtr, _ name: String) -> xmlNodePtr {
        if let existing = Self.child(parent, name) { return existing }
        return xmlNewChild(parent, nil, name, nil)
    }

    /// A new element appended to `parent`, in namespace `namespace` when given.
    func appendElement(_ parent: xmlNodePtr, _ name: String, namespace: xmlNsPtr? = nil) -> xmlNodePtr {
        xmlNewChild(parent, namespace, name, nil)
    }

    static func remove(_ node: xmlNodePtr) {
        xmlUnlinkNode(node)
        xmlFreeNode(node)
    }

    /// The namespace `uri` declared on the root, declaring it with `prefix` when missing.
    func namespace(uri: String, prefix: String) -> xmlNsPtr {
        if let existing = xmlSearchNsByHref(document, root, uri) { return existing }
        return xmlNewNs(root, uri, prefix)
    }

    /// Appends a deep copy of another tree's root element (with its namespace declarations).
    func appendCopy(of other: XMLTree, to parent: xmlNodePtr) {
        guard let copy = xmlDocCopyNode(other.root, document, 1) else { return }
        xmlAddChild(parent, copy)
    }
}
