import NIOCore
import AutoscalerAPI

extension LoadBalancer {
    /// Settings of the load balancer.
    ///
    /// Defaults: clients on 127.0.0.1:8080, admin API on 127.0.0.1:8081 without token, one event
    /// loop per core, round robin; health checks every 2 s (`GET /healthz`, falling back to `/`),
    /// 1 s timeout, rise 2, fall 3; backend connect timeout 2 s, response timeout 30 s; client header
    /// timeout 10 s, idle keep-alive timeout 60 s; 16 KiB of request headers, 8 KiB request line, no
    /// body limit; 10,000 client connections; 1,024 idle connections per backend per event loop;
    /// 10 s to finish in-flight requests on shutdown.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var threads = System.coreCount
        public var algorithm = BalanceAlgorithm.roundrobin
        /// Backends given at start: healthy until a check says otherwise.
        public var backends: [(name: String, endpoint: Endpoint)] = []
        public var adminHost = "127.0.0.1"
        public var adminPort = 8081
        public var adminToken: String?
        public var health = HealthCheckConfiguration()
        public var connectTimeout: Duration = .seconds(2)
        public var responseTimeout: Duration = .seconds(30)
        public var headerTimeout: Duration = .seconds(10)
        public var idleTimeout: Duration = .seconds(60)
        public var maxHeaderBytes = 16 * 1024
        public var maxRequestLineBytes = 8 * 1024
        public var maxBodyBytes: Int?
        public var maxConnections = 10_000
        public var maxIdlePerBackend = 1024
        public var shutdownGrace: Duration = .seconds(10)
        /// TLS on the client port (`--tls-cert`, `--tls-key`); none by default.
        public var tls: TLSFiles?
        /// A plain-HTTP port answering 308 to the https URL (`--redirect-http`); none by default.
        public var redirectHTTPPort: Int?

        public init() {}
    }

    /// The PEM files TLS is served with: the certificate (its chain may follow it) and the key.
    /// Read at start and again on each reload.
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// Active health checks, as HAProxy does them; without them, a backend that failed a request
    /// is left out for `failTimeout` (default 10 s), as nginx does.
    public struct HealthCheckConfiguration: Sendable {
        public var interval: Duration = .seconds(2)
        public var timeout: Duration = .seconds(1)
        public var rise = 2
        public var fall = 3
        /// Checked first; a 404 there falls back to `/`.
        public var path = "/healthz"
        public var enabled = true
        /// With active checks off: how long a backend that failed a request is left out.
        public var failTimeout: Duration = .seconds(10)

        public init() {}
    }
}
