/// One host's reachability as the multi-host provider sees it, listing by listing: a state machine
/// whose transitions say what to report and what happened (after AsyncHTTPClient's connection
/// state machines). Pure: the clock comes in with each call.
///
/// A host that stops answering is `silent` for up to `timeout` seconds: its instances are still
/// reported, as last listed but in state `unknown` (their guests may well still serve: only the
/// daemon may be gone; the balancer's health checks say), so that a blip replaces nothing. After
/// the timeout it is `lost`: its instances are no longer reported, and the scheduler makes up for
/// them on the other hosts. When it answers again, its instances are reported as they are.
public struct HostReachability: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case reachable
        case silent(since: Double)
        case lost(since: Double)
    }

    /// What happened, for the log and the events.
    public enum Event: Sendable, Equatable {
        /// It stopped answering; its instances are kept for the timeout.
        case silent(instances: Int)
        /// Silent for the timeout: its instances are given up.
        case lost(instances: Int, afterSeconds: Double)
        /// It answers again after being silent or lost this long.
        case back(afterSeconds: Double, wasLost: Bool)
    }

    public private(set) var state = State.reachable
    /// The instances of the last successful listing.
    public private(set) var lastListed: [Instance] = []
    /// Seconds a silent host keeps its instances.
    public let timeout: Double

    public init(timeout: Double) {
        self.timeout = timeout
    }

    /// A listing succeeded: report it as it is.
    public mutating func listed(_ instances: [Instance], now: Double) -> (report: [Instance], event: Event?) {
        var event: Event?
        switch state {
        case .reachable: break
        case .silent(let since): event = .back(afterSeconds: now - since, wasLost: false)
        case .lost(let since): event = .back(afterSeconds: now - since + timeout, wasLost: true)
        }
        state = .reachable
        lastListed = instances
        return (instances, event)
    }

    /// A listing failed (no connection, or the call failed).
    public mutating func failed(now: Double) -> (report: [Instance], event: Event?) {
        switch state {
        case .reachable:
            state = .silent(since: now)
            return (unknown(lastListed), .silent(instances: lastListed.count))
        case .silent(let since) where now - since < timeout:
            return (unknown(lastListed), nil)
        case .silent(let since):
            state = .lost(since: now)
            return ([], .lost(instances: lastListed.count, afterSeconds: now - since))
        case .lost:
            return ([], nil)
        }
    }

    /// The event in words, for logs and the scheduler's events.
    public static func describe(_ event: Event, host: String, timeout: Double) -> String {
        switch event {
        case .silent(let count): "host \(host) does not answer: its \(count) instances are kept for \(Int(timeout)) s"
        case .lost(let count, let after): "host \(host) lost after \(Int(after)) s: its \(count) instances are given up and replaced elsewhere"
        case .back(let after, let wasLost):
            "host \(host) answers again after \(Int(after)) s" + (wasLost ? "; its instances beyond the desired count are removed" : "")
        }
    }

    private func unknown(_ instances: [Instance]) -> [Instance] {
        instances.map { instance in
            var instance = instance
            instance.state = .unknown
            return instance
        }
    }
}
