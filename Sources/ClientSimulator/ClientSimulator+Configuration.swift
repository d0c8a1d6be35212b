extension ClientSimulator {
    /// What to send, where and how fast.
    ///
    /// Defaults (the original client simulator's behaviour): random bursts and quiet spells to
    /// `http://127.0.0.1:8080/` until interrupted; even spacing; at most 256 requests in flight;
    /// 10 s timeout per request; a status line every second on a terminal, every 5 s otherwise.
    public struct Configuration: Sendable {
        /// Scheme, host, port and path of the target: `http://HOST:PORT/PATH`.
        public var target = Target(host: "127.0.0.1", port: 8080, path: "/")
        public var pattern = LoadPattern.random(RandomTraffic(seed: 1))
        /// Seconds to run; nil runs until SIGINT/SIGTERM.
        public var duration: Double?
        /// Poisson arrivals instead of evenly spaced ones.
        public var poisson = false
        /// Passed to the `webserver` as `?work=MS`: CPU time each request costs there.
        public var workMilliseconds: Int?
        /// Most requests in flight; a request due while this many are open is skipped and counted.
        public var concurrency = 256
        /// Seconds to wait for each answer.
        public var timeout = 10.0
        /// Seed for random patterns and Poisson arrivals.
        public var seed: UInt64 = 1
        /// Seconds between status lines; nil picks 1 on a terminal, 5 otherwise.
        public var statusInterval: Double?

        public init() {}
    }

    /// An HTTP target on some host; only `http` (the balancer speaks plain HTTP on loopback).
    public struct Target: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var path: String

        public init(host: String, port: Int, path: String) {
            self.host = host
            self.port = port
            self.path = path
        }

        /// Parses `http://HOST[:PORT][/PATH]`; nil for anything else.
        public init?(url: String) {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst("http://".count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = rest[..<slash]
            let path = rest[slash...]
            guard !authority.isEmpty, !authority.contains("@"), !authority.contains(" ") else { return nil }
            var host = Substring(authority)
            var port = 80
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { return nil }
                host = authority[authority.index(after: authority.startIndex)..<close]
                let after = authority[authority.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { return nil }
                    port = value
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                guard let value = Int(authority[authority.index(after: colon)...]) else { return nil }
                port = value
            }
            guard !host.isEmpty, (1...65535).contains(port), !path.contains(" ") else { return nil }
            self.host = String(host)
            self.port = port
            self.path = path.isEmpty ? "/" : String(path)
        }

        public var description: String {
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "http://\(shownHost):\(port)\(path)"
        }
    }
}
