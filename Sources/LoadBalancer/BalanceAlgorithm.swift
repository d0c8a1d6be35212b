/// How the balancer picks a backend for a request.
public enum BalanceAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// Each eligible backend in turn: the original project's rule.
    case roundrobin
    /// The eligible backend with the fewest requests in flight.
    case leastconn
    /// Power of two choices: the less busy of two random eligible backends.
    case p2c
}
