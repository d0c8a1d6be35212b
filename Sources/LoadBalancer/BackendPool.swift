import AutoscalerCore
import Synchronization

/// The set of backends and the choice of one per request.
///
/// Readers (every request, on every event loop) take a short lock to read the current array, which
/// is replaced as a whole on change; the round-robin cursor is an atomic.
public final class BackendPool: Sendable {
    private let backends: Mutex<[Backend]>
    private let cursor = Atomic<Int>(0)
    let algorithm: BalanceAlgorithm

    public init(algorithm: BalanceAlgorithm = .roundrobin) {
        self.algorithm = algorithm
        self.backends = Mutex([])
    }

    /// All backends, in the order they were added.
    public var all: [Backend] { backends.withLock { $0 } }

    public func backend(named name: String) -> Backend? {
        backends.withLock { $0.first { $0.name == name } }
    }

    /// Adds a backend, or replaces one of the same name whose address changed; returns it and
    /// whether anything changed. A replaced backend's old entry drains like a removed one.
    @discardableResult
    public func upsert(name: String, endpoint: Endpoint, healthy: Bool) -> (backend: Backend, changed: Bool) {
        backends.withLock { list in
            if let index = list.firstIndex(where: { $0.name == name }) {
                if list[index].endpoint == endpoint && list[index].state != .draining { return (list[index], false) }
                let replacement = Backend(name: name, endpoint: endpoint, healthy: healthy)
                list[index] = replacement
                return (replacement, true)
            }
            let backend = Backend(name: name, endpoint: endpoint, healthy: healthy)
            list.append(backend)
            return (backend, true)
        }
    }

    /// Removes a backend from the list at once (after it has drained).
    func remove(_ backend: Backend) {
        backends.withLock { list in list.removeAll { $0 === backend } }
    }

    /// Picks a backend for a new request, skipping `excluded` (a backend that just failed it).
    func pick(excluding excluded: Backend? = nil) -> Backend? {
        let eligible = backends.withLock { list in list.filter { $0 !== excluded && $0.isEligible } }
        guard !eligible.isEmpty else { return nil }
        switch algorithm {
        case .roundrobin:
            let turn = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
            return eligible[Int(UInt(bitPattern: turn) % UInt(eligible.count))]
        case .leastconn:
            return eligible.min { $0.inFlight.load(ordering: .relaxed) < $1.inFlight.load(ordering: .relaxed) }
        case .p2c:
            let first = eligible[Int.random(in: 0..<eligible.count)]
            let second = eligible[Int.random(in: 0..<eligible.count)]
            return first.inFlight.load(ordering: .relaxed) <= second.inFlight.load(ordering: .relaxed) ? first : second
        }
    }

    /// `/api/v1/stats`.
    public func stats(requestsTotal: Int) -> BalancerStats {
        BalancerStats(requestsTotal: requestsTotal, backends: all.map(\.snapshot))
    }
}
