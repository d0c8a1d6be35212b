import AutoscalerAPI
import Foundation
import Libvirt

/// What the autoscaler writes into a domain's `<metadata>`, in its own XML namespace.
///
/// It marks the domain as ours (``origin``), says where it serves (``host``/``port`` for user-mode
/// networking with a port forward) and lists the volumes made for it, so that delete removes
/// exactly those.
public struct InstanceMetadata: Sendable, Hashable {
    /// The namespace URI of our element.
    public static let namespace = "http://autoscaler.localhost/xmlns/instance/1"
    /// The namespace prefix libvirt writes.
    public static let prefix = "autoscaler"

    public var origin: InstanceOrigin
    public var host: String?
    public var port: Int?
    public var template: String?
    public var createdAt: Date?
    /// Paths of volumes made for this instance.
    public var volumes: [String]
    /// Set while the instance is a warm-pool member, so that a restarted scheduler finds its pool.
    public var warm: WarmState?
    /// Set once the member's hold (suspend or managed save) completed.
    public var held = false

    public init(
        origin: InstanceOrigin, host: String? = nil, port: Int? = nil, template: String? = nil, createdAt: Date? = nil,
        volumes: [String] = [], warm: WarmState? = nil
    ) {
        self.warm = warm
        self.origin = origin
        self.host = host
        self.port = port
        self.template = template
        self.createdAt = createdAt
        self.volumes = volumes
    }

    /// The loopback endpoint, when the domain is reached through a port forward.
    public var endpoint: Endpoint? {
        guard let port else { return nil }
        return Endpoint(host: host ?? "127.0.0.1", port: port)
    }

    /// The element with our prefix and namespace declared, for a domain's `<metadata>` in its XML.
    public var xml: String {
        element(prefix: "\(Self.prefix):", declaration: " xmlns:\(Self.prefix)=\"\(Self.namespace)\"")
    }

    /// The element without prefix or namespace, as `virDomainSetMetadata` wants it (it adds both).
    public var bareXML: String {
        element(prefix: "", declaration: "")
    }

    private func element(prefix p: String, declaration: String) -> String {
        var attributes = "origin=\"\(origin.rawValue)\""
        if let host { attributes += " host=\"\(escape(host))\"" }
        if let port { attributes += " port=\"\(port)\"" }
        if let template { attributes += " template=\"\(escape(template))\"" }
        if let createdAt { attributes += " created-at=\"\(createdAt.formatted(Self.dateFormat))\"" }
        if let warm { attributes += " warm=\"\(warm.rawValue)\"" }
        if held { attributes += " held=\"true\"" }
        let volumeElements = volumes.map { "<\(p)volume path=\"\(escape($0))\"/>" }.joined()
        return "<\(p)instance\(declaration) \(attributes)>\(volumeElements)</\(p)instance>"
    }

    /// Milliseconds kept, so that the newest of two instances made in one second is known.
    static let dateFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Parses the element libvirt returns; nil when it is not ours.
    public init?(xml: String) {
        guard let element = XMLElementSnapshot(parsing: xml), element.name == "instance",
            let origin = element.attributes["origin"].flatMap(InstanceOrigin.init(rawValue:))
        else { return nil }
        self.origin = origin
        self.host = element.attributes["host"]
        self.port = element.attributes["port"].flatMap { Int($0) }
        self.template = element.attributes["template"]
        self.createdAt = element.attributes["created-at"].flatMap {
            (try? Date($0, strategy: Self.dateFormat)) ?? (try? Date($0, strategy: .iso8601))
        }
        self.volumes = element.children.filter { $0.name == "volume" }.compactMap { $0.attributes["path"] }
        self.warm = element.attributes["warm"].flatMap(WarmState.init(rawValue:))
        self.held = element.attributes["held"] == "true"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
