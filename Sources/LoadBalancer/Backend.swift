import AutoscalerAPI
import NIOCore
import Synchronization

/// One server in the pool, shared by every event loop: its address, state and counters.
///
/// Counters are atomics, bumped on the hot path without locks; the state changes rarely (admin
/// calls, health checks) and sits behind a mutex.
public final class Backend: Sendable {
    public let name: String
    public let endpoint: Endpoint
    /// The endpoint's address when its host is an IP address: connections go straight to it. A
    /// name is resolved for each connection, so that a changed record is followed (by name,
    /// NIO resolves on a dispatch thread and races IPv4 against IPv6: with 1,000 backends,
    /// their health checks alone woke the loop 1,000 times a second).
    let address: SocketAddress?
    let requests = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
    private let status: Mutex<Status>
    /// `state == .active && healthy`, kept beside the status so that picking a backend takes no lock.
    let eligible = Atomic<Bool>(true)
    /// The health-check path once known (`/` for backends without `/healthz`).
    let checkPath = Mutex<String?>(nil)

    struct Status {
        var state: BackendState
        var healthy: Bool
        var consecutivePasses = 0
        var consecutiveFailures = 0
        /// Added through the admin API: one passing check makes it healthy.
        var awaitingFirstCheck: Bool
        /// When it was last found unhealthy, for letting it back in without active checks.
        var downSince: ContinuousClock.Instant?
    }

    init(name: String, endpoint: Endpoint, healthy: Bool) {
        self.name = name
        self.endpoint = endpoint
        self.address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port)
        self.status = Mutex(Status(state: .active, healthy: healthy, awaitingFirstCheck: !healthy))
        eligible.store(healthy, ordering: .relaxed)
    }

    /// Whether new requests may go to it: active and healthy.
    var isEligible: Bool { eligible.load(ordering: .relaxed) }

    /// Recomputes ``eligible``; call with the status lock held, after any change.
    private func publish(_ status: Status) {
        eligible.store(status.state == .active && status.healthy, ordering: .relaxed)
    }

    var state: BackendState { status.withLock { $0.state } }
    var isHealthy: Bool { status.withLock { $0.healthy } }

    func startDraining() {
        status.withLock {
            $0.state = .draining
            publish($0)
        }
    }

    /// Records a health-check result; returns the new health when it changed.
    ///
    /// `rise` passes in a row make a backend healthy, `fall` failures in a row unhealthy (HAProxy's
    /// rule). A passive failure (`immediate`) takes it down at once.
    func recordCheck(passed: Bool, rise: Int, fall: Int, immediate: Bool = false) -> Bool? {
        status.withLock { status in
            let before = status.healthy
            if passed {
                status.consecutivePasses += 1
                status.consecutiveFailures = 0
                if !status.healthy && (status.awaitingFirstCheck || status.consecutivePasses >= rise) { status.healthy = true }
                status.awaitingFirstCheck = false
            } else {
                status.consecutiveFailures += 1
                status.consecutivePasses = 0
                if status.healthy && (immediate || status.consecutiveFailures >= fall) {
                    status.healthy = false
                    status.downSince = .now
                }
            }
            publish(status)
            return status.healthy == before ? nil : status.healthy
        }
    }

    /// With active checks off, nothing else would ever find a backend that a passive failure took
    /// out healthy again: it is let back in once `failTimeout` has passed (nginx's `fail_timeout`),
    /// and the next failure takes it out again. Returns whether it came back.
    func reviveAfterPassiveFailure(now: ContinuousClock.Instant, failTimeout: Duration) -> Bool {
        status.withLock { status in
            guard !status.healthy, let since = status.downSince, now - since >= failTimeout else { return false }
            status.healthy = true
            status.downSince = nil
            status.consecutiveFailures = 0
            publish(status)
            return true
        }
    }

    /// Its entry in `/api/v1/stats` (``BackendStatus``); `down` when unhealthy and not draining.
    public var snapshot: BackendStatus {
        let (state, healthy) = status.withLock { ($0.state, $0.healthy) }
        return BackendStatus(
            name: name, address: endpoint.description,
            state: state == .draining ? .draining : (healthy ? .active : .down), healthy: healthy,
            requestsTotal: requests.load(ordering: .relaxed), failuresTotal: failures.load(ordering: .relaxed),
            inFlight: inFlight.load(ordering: .relaxed))
    }
}
