import AutoscalerAPI
import Foundation
import LoadBalancer
import Synchronization
import TestSupport
import Testing

@Suite("active health checks")
struct HealthCheckTests {
    /// Each backend is checked once an interval, the checks spread over it: all at once, 1,000
    /// backends were a burst of 1,000 probes every interval (the p99 of a large pool).
    @Test func checksAreSpreadOverTheInterval() async throws {
        let checks = Mutex<[Int: [ContinuousClock.Instant]]>([:])
        let backends = try (0..<8).map { index in
            try ScriptedBackend { request in
                if request.target == "/healthz" { checks.withLock { $0[index, default: []].append(.now) } }
                return [.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")]
            }
        }
        defer { backends.forEach { $0.stop() } }
        try await BalancerHarness.with(backends: 0, configure: { configuration in
            configuration.backends = backends.enumerated().map { ("web_vm\($0.offset + 1)", Endpoint(host: "127.0.0.1", port: $0.element.port)) }
            configuration.health.interval = .seconds(2)
        }) { _ in
            try await Task.sleep(for: .milliseconds(4500))
        }
        let latest = checks.withLock { $0 }.compactMapValues(\.last)
        #expect(latest.count == 8, "checked: \(latest.keys.sorted())")
        let times = latest.values.sorted()
        // Spread: the 8 latest checks cover most of the 2 s (slots of 0.25 s); at once, ~0 s.
        let span = try #require(times.last) - (try #require(times.first))
        #expect(span > .seconds(1), "the latest checks of 8 backends span \(span)")
    }
}
