/// What the scheduler and the scaling commands need of a load balancer: its counters, and adding,
/// draining and removing members. ``BalancerAdminClient`` implements it over this project's admin
/// API; a second data plane (HAProxy's Runtime API) can implement it too.
public protocol Balancer: Sendable {
    /// A human-readable location, for logs (`http://127.0.0.1:8081`).
    var location: String { get }
    /// Monotonic counters and the state of every member.
    func stats() async throws -> BalancerStats
    /// Adds a member, or updates its address; idempotent. It takes traffic once healthy.
    func register(name: String, address: Endpoint) async throws
    /// Stops sending new requests to a member and waits until its requests in flight ended (or
    /// `timeout` passed, which throws), then removes it.
    func drain(name: String, timeout: Duration) async throws
    /// Starts draining a member and returns at once; false when the balancer does not have it.
    @discardableResult
    func remove(name: String) async throws -> Bool
}
