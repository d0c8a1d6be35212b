/// Why a request did not get a successful answer, as the summary counts them.
public enum ErrorKind: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
    /// Nothing listened: connection refused.
    case refused
    /// No answer within the request timeout.
    case timeout
    /// The connection broke before a complete answer (reset, closed early).
    case connection
    /// An answer with a 4xx status.
    case http4xx
    /// An answer with a 5xx status (the balancer's 502/503/504 among them).
    case http5xx
    /// Anything else (a bad answer, a local failure).
    case other
}
