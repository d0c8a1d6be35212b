import CLibvirt

/// A domain's run state (`virDomainState`).
public enum DomainState: Int32, Sendable, CustomStringConvertible {
    case noState = 0
    case running = 1
    case blocked = 2
    case paused = 3
    case shuttingDown = 4
    case shutOff = 5
    case crashed = 6
    case pmSuspended = 7

    /// Whether a qemu process exists for the domain.
    public var isActive: Bool {
        switch self {
        case .running, .blocked, .paused, .shuttingDown, .pmSuspended: true
        case .noState, .shutOff, .crashed: false
        }
    }

    public var description: String {
        switch self {
        case .noState: "no state"
        case .running: "running"
        case .blocked: "blocked"
        case .paused: "paused"
        case .shuttingDown: "shutting down"
        case .shutOff: "shut off"
        case .crashed: "crashed"
        case .pmSuspended: "suspended"
        }
    }
}
