import CLibXML2

/// An XML element read into plain values: name, namespace, attributes and child elements.
///
/// For small documents such as our domain metadata, where holding a parsed tree is not worth it.
public struct XMLElementSnapshot: Sendable, Hashable {
    public var name: String
    public var namespaceURI: String?
    public var attributes: [String: String]
    public var children: [XMLElementSnapshot]

    /// Parses `xml` and snapshots its root element; nil when it is not well-formed XML.
    public init?(parsing xml: String) {
        guard let tree = XMLTree(xml) else { return nil }
        self.init(tree.root)
    }

    init(_ node: UnsafeMutablePointer<_xmlNode>) {
        name = XMLTree.name(node)
        namespaceURI = XMLTree.namespaceURI(node)
        var attributes: [String: String] = [:]
        var attribute = node.pointee.properties
        while let current = attribute {
            let key = current.pointee.name.map { String(cString: $0) } ?? ""
            if let value = XMLTree.attribute(node, key) { attributes[key] = value }
            attribute = current.pointee.next
        }
        self.attributes = attributes
        children = XMLTree.elements(node).map(XMLElementSnapshot.init)
    }
}
