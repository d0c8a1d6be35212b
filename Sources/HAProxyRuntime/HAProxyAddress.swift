import AutoscalerAPI

/// Where HAProxy's Runtime API (a `stats socket ... level admin`) listens, from the URL that the
/// balancer flags take: `haproxy:/run/haproxy/admin.sock` (a Unix socket) or
/// `haproxy://127.0.0.1:9999` (TCP).
public enum HAProxyAddress: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    /// Whether `url` names HAProxy rather than this project's balancer.
    public static func isHAProxy(_ url: String) -> Bool { url.hasPrefix("haproxy:") }

    /// Parses `url`; throws ``AutoscalerError/balancer(_:)`` when it is neither form.
    public init(url: String) throws {
        let usage = "'\(url)' is not an HAProxy Runtime API address like haproxy:/run/haproxy/admin.sock or haproxy://127.0.0.1:9999"
        guard Self.isHAProxy(url) else { throw AutoscalerError.balancer(usage) }
        let rest = url.dropFirst("haproxy:".count)
        if rest.hasPrefix("//") {
            let authority = rest.dropFirst(2)
            guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
                (1...65535).contains(port)
            else { throw AutoscalerError.balancer(usage) }
            var host = String(authority[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty, !host.contains("/") else { throw AutoscalerError.balancer(usage) }
            self = .tcp(host: host, port: port)
        } else {
            guard rest.hasPrefix("/"), rest.count > 1 else { throw AutoscalerError.balancer(usage) }
            self = .unix(path: String(rest))
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "haproxy:\(path)"
        case .tcp(let host, let port): "haproxy://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }
}
