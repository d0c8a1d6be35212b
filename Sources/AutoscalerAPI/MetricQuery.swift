/// A number the scheduler reads from outside once per tick: the `prometheus` scaling metric's
/// PromQL query (``MetricQuery`` keeps the scheduler free of HTTP; `PrometheusQuery` in
/// AutoscalerClient implements it).
public protocol MetricQuery: Sendable {
    /// Where and what, for logs: `http://127.0.0.1:9090 sum(rate(lb_requests_total[30s]))`.
    var location: String { get }
    /// The value now. Throws ``MetricQueryError`` when there is none to trust: the server does
    /// not answer, refuses the query, or the query gives no series or several.
    func value() async throws -> Double
}

/// Why a ``MetricQuery`` gave no value.
public struct MetricQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
