import AutoscalerAPI
import Synchronization

/// The set of backends and the choice of one per request.
///
/// Readers (every request, on every event loop) take a short lock to read the current member list,
/// an immutable object replaced as a whole on change; the round-robin cursor is an atomic.
public final class BackendPool: Sendable {
    /// The list inside an object: taking it out of the lock is one retain. Returning the array
    /// itself from `withLock` copied it element by element (36 µs per request with 1,000
    /// backends, measured by the `pick backend` microbenchmark).
    private final class Members: Sendable {
        let list: [Backend]
        /// Here, not in a field of its own: a reload changes it, and the hot path already takes
        /// this object under the lock.
        let algorithm: BalanceAlgorithm

        init(_ list: [Backend], algorithm: BalanceAlgorithm) {
            self.list = list
            self.algorithm = algorithm
        }
    }

    private let members: Mutex<Members>
    private let cursor = Atomic<Int>(0)
    private let removalCount = Atomic<Int>(0)
    /// How a backend is picked.
    public var algorithm: BalanceAlgorithm {
        get { members.withLock { $0 }.algorithm }
        set { members.withLock { $0 = Members($0.list, algorithm: newValue) } }
    }

    public init(algorithm: BalanceAlgorithm = .roundrobin) {
        self.members = Mutex(Members([], algorithm: algorithm))
    }

    /// All backends, in the order they were added.
    public var all: [Backend] { members.withLock { $0 }.list }

    public func backend(named name: String) -> Backend? {
        all.first { $0.name == name }
    }

    /// Adds a backend, or replaces one of the same name whose address changed; returns it and
    /// whether anything changed. A replaced backend's old entry drains like a removed one.
    @discardableResult
    public func upsert(name: String, endpoint: Endpoint, healthy: Bool) -> (backend: Backend, changed: Bool) {
        members.withLock { members in
            var list = members.list
            defer { members = Members(list, algorithm: members.algorithm) }
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
        members.withLock { members in members = Members(members.list.filter { $0 !== backend }, algorithm: members.algorithm) }
        removalCount.add(1, ordering: .relaxed)
    }

    /// How many removals there have been (``MemoryTrimmer`` trims after them).
    var removals: Int { removalCount.load(ordering: .relaxed) }

    /// Picks a backend for a new request, skipping `excluded` (a backend that just failed it).
    package func pick(excluding excluded: Backend? = nil) -> Backend? {
        // Hot path: one short lock to take the array (no copy), no allocation, atomics only.
        let current = members.withLock { $0 }
        let list = current.list
        let count = list.count
        guard count > 0 else { return nil }
        func usable(_ backend: Backend) -> Bool { backend !== excluded && backend.isEligible }
        switch current.algorithm {
        case .roundrobin:
            let turn = Int(UInt(bitPattern: cursor.wrappingAdd(1, ordering: .relaxed).oldValue) % UInt(count))
            for offset in 0..<count {
                let candidate = list[(turn + offset) % count]
                if usable(candidate) { return candidate }
            }
            return nil
        case .leastconn:
            var best: Backend?
            var bestLoad = Int.max
            for candidate in list where usable(candidate) {
                let load = candidate.inFlight.load(ordering: .relaxed)
                if load < bestLoad {
                    best = candidate
                    bestLoad = load
                }
            }
            return best
        case .p2c:
            // Two choices from a hash of the shared counter: the system generator costs a
            // `getrandom` call each time.
            var mixed = UInt64(bitPattern: Int64(cursor.wrappingAdd(1, ordering: .relaxed).oldValue)) &* 0x9E37_79B9_7F4A_7C15
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed ^= mixed >> 31
            let first = list[Int(mixed % UInt64(count))]
            let second = list[Int((mixed >> 32) % UInt64(count))]
            switch (usable(first), usable(second)) {
            case (true, true):
                return first.inFlight.load(ordering: .relaxed) <= second.inFlight.load(ordering: .relaxed) ? first : second
            case (true, false): return first
            case (false, true): return second
            case (false, false): return list.first(where: usable)
            }
        }
    }

    /// `/api/v1/stats`.
    public func stats(requestsTotal: Int) -> BalancerStats {
        BalancerStats(requestsTotal: requestsTotal, backends: all.map(\.snapshot))
    }
}
