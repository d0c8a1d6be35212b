import AsyncHTTPClient
import AutoscalerAPI
import Foundation
import NIOCore

/// Asks an endpoint for a page until it answers, the way the balancer's health check will.
public struct HTTPProbe: Sendable {
    /// Default `/`: every web server has it, the original's VMs had nothing else.
    public var path: String
    /// Time allowed for one request; default 2 s.
    public var requestTimeout: Duration
    /// Pause between attempts; default 200 ms.
    public var interval: Duration

    public init(path: String = "/", requestTimeout: Duration = .seconds(2), interval: Duration = .milliseconds(200)) {
        self.path = path
        self.requestTimeout = requestTimeout
        self.interval = interval
    }

    /// One request to `path` (default: ``path``): the status, or nil when nothing answered in time.
    public func status(_ endpoint: Endpoint, path: String? = nil, client: HTTPClient = .shared) async -> UInt? {
        var request = HTTPClientRequest(url: "http://\(endpoint)\(path ?? self.path)")
        request.headers.add(name: "User-Agent", value: "autoscaler-probe")
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(requestTimeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return response.status.code
        } catch {
            return nil
        }
    }

    /// One request: true when the endpoint answered with a status below 500.
    public func check(_ endpoint: Endpoint, client: HTTPClient = .shared) async -> Bool {
        (await status(endpoint, client: client)).map { $0 < 500 } ?? false
    }
}
