import AutoscalerAPI
import Foundation

/// One web server the autoscaler knows: a libvirt domain or a local `webserver` process.
public struct Instance: Sendable, Hashable, Codable {
    /// Unique within a provider, e.g. `web_vm3`.
    public var name: String
    /// Where it serves HTTP, once known.
    public var endpoint: Endpoint?
    public var state: InstanceState
    /// Whether the autoscaler made it (and so may delete it) or found it.
    public var origin: InstanceOrigin
    /// When the autoscaler made it; nil for found instances.
    public var createdAt: Date?
    /// A warm-pool member (prepared, out of the balancer) and how it is held; nil for the rest.
    public var warm: WarmState?
    /// A member whose hold completed (paused or saved): ready to take. A member that is not
    /// held is being prepared, taken or returned, or was left half-way by a crash.
    public var held = false
    /// The libvirt host it runs on, when the provider manages several (its label: URI or alias).
    public var host: String?

    public init(
        name: String, endpoint: Endpoint?, state: InstanceState, origin: InstanceOrigin, createdAt: Date? = nil, warm: WarmState? = nil,
        held: Bool = false, host: String? = nil
    ) {
        self.held = held
        self.host = host
        self.name = name
        self.endpoint = endpoint
        self.state = state
        self.origin = origin
        self.createdAt = createdAt
        self.warm = warm
    }
}

extension Instance {
    enum CodingKeys: String, CodingKey {
        case name, endpoint, state, origin, createdAt, warm, held, host
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name), endpoint: try container.decodeIfPresent(Endpoint.self, forKey: .endpoint),
            state: try container.decode(InstanceState.self, forKey: .state), origin: try container.decode(InstanceOrigin.self, forKey: .origin),
            createdAt: try container.decodeIfPresent(Date.self, forKey: .createdAt), warm: try container.decodeIfPresent(WarmState.self, forKey: .warm),
            held: try container.decodeIfPresent(Bool.self, forKey: .held) ?? false)
        host = try container.decodeIfPresent(String.self, forKey: .host)
    }

    /// `warm` and `held` only for warm-pool members, `host` only with several hosts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(endpoint, forKey: .endpoint)
        try container.encode(state, forKey: .state)
        try container.encode(origin, forKey: .origin)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(warm, forKey: .warm)
        if warm != nil { try container.encode(held, forKey: .held) }
        try container.encodeIfPresent(host, forKey: .host)
    }
}

/// The run state of an ``Instance`` as its provider sees it (not its HTTP health).
public enum InstanceState: String, Sendable, Hashable, Codable {
    case running
    case paused
    case stopped
    case crashed
    case unknown
}

/// Who made an instance.
public enum InstanceOrigin: String, Sendable, Hashable, Codable {
    /// Cloned or started by the autoscaler: it may stop and delete it.
    case created
    /// There before (the initial VMs, a user's own): it serves, but is never deleted.
    case found
}

extension Instance {
    /// The instance as one line of JSON (ISO 8601 dates, sorted keys).
    public func jsonLine() throws -> String {
        String(decoding: try JSONEncoder.iso8601.encode(self), as: UTF8.self)
    }
}

extension Instance {
    /// For picking the newest instance (see ``InstanceAge``).
    public var age: InstanceAge { InstanceAge(createdAt: createdAt, name: name) }
}
