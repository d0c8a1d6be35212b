/// One backend as the load balancer's admin API reports it in `GET /api/v1/stats` and
/// `GET /api/v1/backends`.
///
/// The admin API is the contract between the balancer and its clients (the scheduler, `scale-up
/// --register`, `scale-down --drain`), on 127.0.0.1:8081 by default: `GET /api/v1/stats` answers
/// ``BalancerStats`` (monotonic counters, so a reader derives rates from two reads);
/// `PUT /api/v1/backends/{name}` with `{"address": "host:port"}` adds or updates a backend
/// (idempotent: 201 new, 200 unchanged); `DELETE /api/v1/backends/{name}` drains it, then removes
/// it (202; `draining` until gone). Mutating calls take `Authorization: Bearer <token>` when a token
/// is configured; errors are `{"error": "..."}`.
public struct BackendStatus: Codable, Sendable, Hashable {
    public var name: String
    /// `host:port`.
    public var address: String
    public var state: BackendState
    public var healthy: Bool
    public var requestsTotal: Int
    public var failuresTotal: Int
    public var inFlight: Int

    public init(
        name: String, address: String, state: BackendState, healthy: Bool, requestsTotal: Int = 0, failuresTotal: Int = 0,
        inFlight: Int = 0
    ) {
        self.name = name
        self.address = address
        self.state = state
        self.healthy = healthy
        self.requestsTotal = requestsTotal
        self.failuresTotal = failuresTotal
        self.inFlight = inFlight
    }
}

/// Whether the balancer sends a backend new requests.
public enum BackendState: String, Codable, Sendable, Hashable {
    case active
    case draining
    case down
}

/// `GET /api/v1/stats`: monotonic counters, so a reader derives rates from two reads.
public struct BalancerStats: Codable, Sendable, Hashable {
    public var requestsTotal: Int
    public var backends: [BackendStatus]
    /// Durations of proxied requests (absent from balancers that do not measure them).
    public var latency: LatencyBuckets?

    public init(requestsTotal: Int, backends: [BackendStatus], latency: LatencyBuckets? = nil) {
        self.requestsTotal = requestsTotal
        self.backends = backends
        self.latency = latency
    }
}

/// `GET /api/v1/backends`.
public struct BackendList: Codable, Sendable, Hashable {
    public var backends: [BackendStatus]

    public init(backends: [BackendStatus]) {
        self.backends = backends
    }
}

/// The body of `PUT /api/v1/backends/{name}`.
public struct BackendRegistration: Codable, Sendable, Hashable {
    public var address: String

    public init(address: String) {
        self.address = address
    }
}

/// The JSON body of every error answer of the HTTP APIs.
public struct APIErrorBody: Codable, Sendable, Hashable {
    public var error: String

    public init(error: String) {
        self.error = error
    }
}
