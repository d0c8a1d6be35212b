import AsyncHTTPClient
import AutoscalerAPI
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Talks to the load balancer's admin API (see ``BackendStatus``): stats, and adding and draining backends.
public struct BalancerAdminClient: Balancer {
    /// `http://host:port`, without a path.
    public let baseURL: String
    /// Sent as `Authorization: Bearer` on mutating calls when set.
    public let token: String?
    let client: HTTPClient
    /// Time allowed for one call; default 5 s.
    public var requestTimeout: Duration = .seconds(5)
    /// How often ``drain(name:timeout:)`` asks whether the backend is gone; default 100 ms.
    public var drainPollInterval: Duration = .milliseconds(100)

    public var location: String { baseURL }

    /// Checks `url` (`http://host:port`); throws ``AutoscalerError/balancer(_:)`` when it is not one.
    /// Without a token, a balancer on this machine's loopback is asked with the one it keeps in
    /// ``APIToken/file(for:port:)``, if that file is there and readable.
    public init(url: String, token: String? = nil, client: HTTPClient = BalancerAdminClient.sharedClient) throws {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host, !host.isEmpty,
            parsed.path.isEmpty || parsed.path == "/", parsed.query == nil
        else {
            throw AutoscalerError.balancer("'\(url)' is not an admin URL like http://127.0.0.1:8081")
        }
        let port = parsed.port ?? 80
        self.baseURL = "http://\(host):\(port)"
        let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
        self.token = token.flatMap { $0.isEmpty ? nil : $0 } ?? (loopback ? APIToken.read(APIToken.file(for: .loadbalancer, port: port)) : nil)
        self.client = client
    }

    /// The HTTP client the admin calls share by default: `HTTPClient.shared`'s settings, except
    /// that a refused connection fails at once. AsyncHTTPClient otherwise retries connecting until
    /// the request's deadline, and a scheduler tick would wait 5 s for a balancer that is down.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public func stats() async throws -> BalancerStats {
        try await call(.GET, "/api/v1/stats", expecting: [.ok], decode: BalancerStats.self)
    }

    public func backends() async throws -> [BackendStatus] {
        try await call(.GET, "/api/v1/backends", expecting: [.ok], decode: BackendList.self).backends
    }

    /// Adds (or updates) a backend; it takes traffic after its first passing health check.
    public func register(name: String, address: Endpoint) async throws {
        let body = try JSONEncoder().encode(BackendRegistration(address: address.description))
        _ = try await call(.PUT, "/api/v1/backends/\(name)", body: body, expecting: [.ok, .created, .noContent])
    }

    /// Starts draining a backend; returns false when the balancer does not have it.
    @discardableResult
    public func remove(name: String) async throws -> Bool {
        let status = try await call(.DELETE, "/api/v1/backends/\(name)", expecting: [.accepted, .ok, .noContent, .notFound])
        return status != .notFound
    }

    /// Drains a backend and waits until the balancer has let it go (in-flight requests finished).
    public func drain(name: String, timeout: Duration) async throws {
        guard try await remove(name: name) else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await !backends().contains(where: { $0.name == name }) { return }
            try await Task.sleep(for: drainPollInterval)
        }
        throw AutoscalerError.balancer("\(name) still draining after \(Int(timeout.seconds)) s")
    }

    @discardableResult
    private func call(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, expecting: Set<HTTPResponseStatus>
    ) async throws -> HTTPResponseStatus {
        let (status, _) = try await send(method, path, body: body, expecting: expecting)
        return status
    }

    private func call<T: Decodable>(
        _ method: HTTPMethod, _ path: String, expecting: Set<HTTPResponseStatus>, decode: T.Type
    ) async throws -> T {
        let (_, data) = try await send(method, path, body: nil, expecting: expecting)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw AutoscalerError.balancer("unexpected answer from \(baseURL)\(path): \(error)")
        }
    }

    private func send(
        _ method: HTTPMethod, _ path: String, body: Data?, expecting: Set<HTTPResponseStatus>
    ) async throws -> (HTTPResponseStatus, Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token, method != .GET { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await client.execute(request, timeout: .nanoseconds(requestTimeout.nanoseconds))
            data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        } catch {
            throw AutoscalerError.balancer("cannot reach the admin API at \(baseURL) (is `loadbalancer` running?): \(error)")
        }
        guard expecting.contains(response.status) else {
            let reason = (try? JSONDecoder().decode(APIErrorBody.self, from: data).error) ?? String(decoding: data.prefix(200), as: UTF8.self)
            switch response.status {
            case .unauthorized, .forbidden:
                throw AutoscalerError.balancer("\(method) \(path) refused (\(response.status.code)): check the admin token")
            default:
                throw AutoscalerError.balancer("\(method) \(path) answered \(response.status.code): \(reason)")
            }
        }
        return (response.status, data)
    }
}
