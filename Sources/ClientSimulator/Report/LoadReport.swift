/// What the clients saw: the final summary, also written as JSON with `--json`.
public struct LoadReport: Sendable, Codable, Equatable {
    public var target: String
    public var pattern: String
    /// How long requests were sent (the run's duration, or until it was stopped).
    public var seconds: Double
    /// Requests whose time came (sent, or skipped at the concurrency cap).
    public var scheduled: Int
    public var sent: Int
    public var ok: Int
    public var errors: [ErrorKind: Int]
    /// Requests not sent because the concurrency cap was reached: the server fell behind.
    public var skippedAtCap: Int
    /// Requests sent per second over ``seconds``.
    public var achievedRate: Double
    /// Latency from each request's scheduled time to its answer, in milliseconds (answers only).
    public var latencyMilliseconds: Percentiles
    /// Successful answers per instance, from the `X-Instance` header.
    public var instances: [String: Int]

    public struct Percentiles: Sendable, Codable, Equatable {
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var p999: Double
        public var max: Double
        public var mean: Double
    }

    public var errorsTotal: Int { errors.values.reduce(0, +) }
}
