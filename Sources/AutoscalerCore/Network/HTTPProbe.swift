import AsyncHTTPClient
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

    /// One request: true when the endpoint answered with a status below 500.
    public func check(_ endpoint: Endpoint, client: HTTPClient = .shared) async -> Bool {
        var request = HTTPClientRequest(url: "http://\(endpoint)\(path)")
        request.method = .GET
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(requestTimeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return response.status.code < 500
        } catch {
            return false
        }
    }
}

extension Duration {
    /// The whole duration in nanoseconds (saturating), for APIs that take `TimeAmount` or `Int64`.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole + attoseconds / 1_000_000_000
    }

    /// The whole duration in milliseconds.
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }

    /// The duration in seconds as a `Double`.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}
