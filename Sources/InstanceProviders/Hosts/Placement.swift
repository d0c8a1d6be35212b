/// How instances are spread over several libvirt hosts (`--placement`), after OpenNebula's
/// striping, packing and load-aware policies.
public enum PlacementRule: String, Sendable, Hashable, CaseIterable, Codable {
    /// The host with the fewest of our instances: losing a host loses the least.
    case spread
    /// The first host (in the order given) until it holds `--host-max`, then the next: the
    /// fewest hosts busy.
    case pack
    /// The host with the most free memory that fits the template.
    case memory
}

/// What placement knows of one host at a decision.
public struct HostLoad: Sendable, Hashable {
    /// The host's label (its URI, or the alias it was given).
    public var name: String
    /// Our instances on it (in service, pending and warm alike: all take its resources).
    public var instances: Int
    /// Whether its libvirt daemon answers; an unreachable host gets nothing and loses nothing.
    public var reachable: Bool
    /// Free memory (`virNodeGetFreeMemory`), and the memory the template asks for; nil when not
    /// known, in which case the host is taken to fit.
    public var freeMemoryKiB: UInt64?
    public var templateMemoryKiB: UInt64?

    public init(name: String, instances: Int, reachable: Bool = true, freeMemoryKiB: UInt64? = nil, templateMemoryKiB: UInt64? = nil) {
        self.name = name
        self.instances = instances
        self.reachable = reachable
        self.freeMemoryKiB = freeMemoryKiB
        self.templateMemoryKiB = templateMemoryKiB
    }

    /// Whether a clone of the template fits in its free memory (true when either is unknown).
    public var fits: Bool {
        guard let freeMemoryKiB, let templateMemoryKiB else { return true }
        return freeMemoryKiB >= templateMemoryKiB
    }
}

/// Where a new instance goes and which host a scale-in takes from: a pure function of the hosts'
/// loads, table-tested without hypervisors. Ties go to the host given first (new instances) and
/// to the host given last (scale-in), so that the order of `--uri` is the order of preference.
public struct Placement: Sendable, Hashable {
    public var rule: PlacementRule
    /// Most of our instances on one host (`--host-max`); nil: no limit.
    public var hostMaximum: Int?

    public init(rule: PlacementRule = .spread, hostMaximum: Int? = nil) {
        self.rule = rule
        self.hostMaximum = hostMaximum
    }

    /// The host for a new instance; nil when no reachable host has room (its maximum, its memory).
    public func hostForNewInstance(_ hosts: [HostLoad]) -> String? {
        let candidates = hosts.enumerated().filter { _, host in
            host.reachable && host.fits && hostMaximum.map { host.instances < $0 } != false
        }
        let chosen: (offset: Int, element: HostLoad)?
        switch rule {
        case .spread:
            chosen = candidates.min { ($0.element.instances, $0.offset) < ($1.element.instances, $1.offset) }
        case .pack:
            chosen = candidates.first
        case .memory:
            // Most free memory first; hosts that do not say come after those that do.
            func key(_ host: (offset: Int, element: HostLoad)) -> (Int, Int64, Int) {
                (host.element.freeMemoryKiB == nil ? 1 : 0, -Int64(clamping: host.element.freeMemoryKiB ?? 0), host.offset)
            }
            chosen = candidates.min { key($0) < key($1) }
        }
        return chosen?.element.name
    }

    /// The host a scale-in takes an instance from; nil when no reachable host has one of ours.
    public func hostToShrink(_ hosts: [HostLoad]) -> String? {
        let candidates = hosts.enumerated().filter { $0.element.reachable && $0.element.instances > 0 }
        let chosen: (offset: Int, element: HostLoad)?
        switch rule {
        case .spread:
            // The most of ours, the last given on a tie.
            chosen = candidates.max { ($0.element.instances, $0.offset) < ($1.element.instances, $1.offset) }
        case .pack:
            // The least full, so that it empties first; the last given on a tie.
            chosen = candidates.min { ($0.element.instances, -$0.offset) < ($1.element.instances, -$1.offset) }
        case .memory:
            // The least free memory; unknown counts as plenty.
            chosen = candidates.min { a, b in
                let (x, y) = (a.element.freeMemoryKiB ?? .max, b.element.freeMemoryKiB ?? .max)
                return (x, -a.offset) < (y, -b.offset)
            }
        }
        return chosen?.element.name
    }
}
