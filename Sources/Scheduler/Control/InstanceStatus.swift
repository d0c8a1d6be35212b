import AutoscalerAPI
import InstanceProviders
import Foundation

/// One instance as the scheduler sees it: the provider's view joined with the balancer's.
public struct InstanceStatus: Codable, Sendable, Equatable {
    public enum Health: String, Codable, Sendable {
        /// Registered, healthy, taking traffic.
        case inService = "in_service"
        /// Running, not taking traffic yet (starting, or registered and awaiting its first check).
        case pending
        /// Leaving: no new requests, in-flight ones finishing.
        case draining
        /// Registered but failing its health checks.
        case unhealthy
        /// Not running (stopped, crashed).
        case stopped
        /// A warm-pool member: prepared (or being prepared), out of the balancer.
        case warm
    }

    public var name: String
    public var endpoint: String?
    public var state: InstanceState
    public var health: Health
    public var origin: InstanceOrigin
    public var createdAt: Date?
    /// How a warm-pool member is held (nil for the rest).
    public var warm: WarmState?
    /// A member whose hold completed: ready to take.
    public var held: Bool?
    /// The libvirt host it runs on, when there are several.
    public var host: String?
    /// Requests the balancer sent it (since it was registered).
    public var requestsTotal: Int
    public var inFlight: Int

    package init(
        name: String, endpoint: String?, state: InstanceState, health: Health, origin: InstanceOrigin, createdAt: Date?,
        requestsTotal: Int, inFlight: Int, warm: WarmState? = nil, held: Bool? = nil, host: String? = nil
    ) {
        self.host = host
        self.warm = warm
        self.held = warm == nil ? nil : (held ?? false)
        self.name = name
        self.endpoint = endpoint
        self.state = state
        self.health = health
        self.origin = origin
        self.createdAt = createdAt
        self.requestsTotal = requestsTotal
        self.inFlight = inFlight
    }

    /// For picking the newest instance (see ``InstanceAge``).
    public var age: InstanceAge { InstanceAge(createdAt: createdAt, name: name) }

    /// The instance a scale-in removes: the newest the autoscaler created that is not leaving
    /// already nor in the warm pool; found instances are never removed. With several hosts and a
    /// `placement`, the newest on the host its rule shrinks (the one with the most of ours for
    /// spread, the least full for pack), ties going by `hostOrder` (the order of `--uri`).
    package static func scaleInTarget(_ statuses: [InstanceStatus], placement: Placement? = nil, hostOrder: [String] = []) -> InstanceStatus? {
        // Not one on a host that does not answer (state unknown): it could not be removed.
        let candidates = statuses.filter { $0.origin == .created && $0.health != .draining && $0.health != .warm && $0.state != .unknown }
        if let placement, candidates.contains(where: { $0.host != nil }) {
            // Hosts without a candidate cannot be shrunk: only the candidates' hosts count.
            var counts: [String: Int] = [:]
            for status in candidates { if let host = status.host { counts[host, default: 0] += 1 } }
            let order = Array(counts.keys)
            let ranked = order.sorted { (hostOrder.firstIndex(of: $0) ?? .max, $0) < (hostOrder.firstIndex(of: $1) ?? .max, $1) }
            let loads = ranked.map { HostLoad(name: $0, instances: counts[$0] ?? 0) }
            if let host = placement.hostToShrink(loads) {
                return candidates.filter { $0.host == host }.max { $0.age < $1.age }
            }
        }
        return candidates.max { $0.age < $1.age }
    }

    /// A warm-pool member whose hold completed and that is still in the state it was held in
    /// (paused, or saved and shut off): ready to take into service.
    var isHeldWarm: Bool {
        guard health == .warm, held == true else { return false }
        return warm == .paused ? state == .paused : state == .stopped
    }

    /// Joins a provider instance with its balancer entry (nil when not registered).
    package static func make(_ instance: Instance, backend: BackendStatus?) -> InstanceStatus {
        let health: Health
        if instance.warm != nil {
            health = .warm
        } else if instance.state == .unknown {
            // On a host that does not answer: the balancer's checks say whether it still serves.
            health = backend.map { $0.state == .active ? .inService : $0.state == .draining ? .draining : .unhealthy } ?? .unhealthy
        } else if instance.state != .running {
            health = .stopped
        } else if let backend {
            switch backend.state {
            case .draining: health = .draining
            case .active: health = .inService
            case .down: health = backend.requestsTotal == 0 && backend.failuresTotal == 0 ? .pending : .unhealthy
            }
        } else {
            health = .pending
        }
        return InstanceStatus(
            name: instance.name, endpoint: instance.endpoint?.description, state: instance.state, health: health,
            origin: instance.origin, createdAt: instance.createdAt, requestsTotal: backend?.requestsTotal ?? 0,
            inFlight: backend?.inFlight ?? 0, warm: instance.warm, held: instance.held, host: instance.host)
    }
}
