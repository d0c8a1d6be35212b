import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing

/// The monitoring files in `monitoring/`: the Grafana dashboard names only metrics that the live
/// balancer and scheduler export, and the Prometheus scrape config points at their defaults.
@Suite("monitoring files")
struct MonitoringTests {
    /// The repository's `monitoring/` folder, found from this file's path.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("monitoring")

    /// Every query of every panel.
    static func dashboardQueries() throws -> [String] {
        let data = try Data(contentsOf: folder.appendingPathComponent("grafana/autoscaler.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        return panels.flatMap { panel in ((panel["targets"] as? [[String: Any]]) ?? []).compactMap { $0["expr"] as? String } }
    }

    /// The metric names a query reads: our prefixes only (`rate`, `sum`, labels are not metrics).
    static func metricNames(in query: String) -> Set<String> {
        var names = Set<String>()
        var current = ""
        for character in query + " " {
            if character.isLetter || character.isNumber || character == "_" {
                current.append(character)
            } else {
                if current.hasPrefix("lb_") || current.hasPrefix("scheduler_") { names.insert(current) }
                current = ""
            }
        }
        return names
    }

    /// Series names of a Prometheus text exposition.
    static func seriesNames(_ exposition: String) -> Set<String> {
        Set(exposition.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            line.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
        })
    }

    @Test func dashboardCoversTheIssueAndNamesOnlyLiveMetrics() async throws {
        let queries = try Self.dashboardQueries()
        let named = queries.reduce(into: Set<String>()) { $0.formUnion(Self.metricNames(in: $1)) }
        // What the dashboard must show: request rate, latency quantiles, instances by state,
        // scaling actions, errors.
        #expect(named.isSuperset(of: [
            "lb_requests_total", "lb_request_duration_seconds_bucket", "scheduler_instances", "scheduler_actions_total",
            "lb_backend_failures_total",
        ]))
        #expect(queries.contains { $0.contains("histogram_quantile(0.99") })

        try await BalancerHarness.with(backends: 0) { lb in
            let state = lb.provider.configuration.stateDirectory
            let port = 20_000 + Int.random(in: 0..<12_000)  // below the ephemeral range, where port-0 listeners land
            let scheduler = try SchedulerCommandTests.start([
                "--provider", "process", "--state-dir", state, "--balancer", "http://127.0.0.1:\(lb.adminPort)", "--api-port", "\(port)",
                "--min", "1", "--max", "2", "--interval", "0.2", "--log-level", "error",
                // Metrics that never scale here, so that their series exist.
                "--metric", "requests", "--target", "1000", "--metric", "cpu", "--target", "95",
            ])
            defer {
                kill(scheduler.processIdentifier, SIGTERM)
                scheduler.waitUntilExit()
            }
            func metrics(_ url: String) async throws -> String {
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
                #expect(response.status == .ok)
                return String(buffer: try await response.body.collect(upTo: 4 << 20))
            }
            // One instance made (a scaling action) and serving: traffic gives the latency histogram
            // and the per-backend series.
            try await waitUntil(20, "an instance in service behind the balancer") {
                (try? await lb.request().status) == 200
            }
            for _ in 0..<5 { _ = try await lb.request() }
            try await waitUntil(10, "the scheduler's action in /metrics") {
                (try? await metrics("http://127.0.0.1:\(port)/metrics").contains("scheduler_action_duration_seconds_bucket")) == true
            }
            let live = Self.seriesNames(try await metrics("http://127.0.0.1:\(lb.adminPort)/metrics"))
                .union(Self.seriesNames(try await metrics("http://127.0.0.1:\(port)/metrics")))
            let missing = named.subtracting(live)
            #expect(missing.isEmpty, "named by the dashboard, exported by neither: \(missing.sorted())")
        }
    }

    /// The scrape config's targets are the executables' default API addresses.
    @Test func scrapeConfigTargetsTheDefaultPorts() async throws {
        let config = try String(contentsOf: Self.folder.appendingPathComponent("prometheus.yml"), encoding: .utf8)
        let balancerHelp = try await CommandRunner.run("loadbalancer", ["--help"]).stdout
        let schedulerHelp = try await CommandRunner.run("scheduler", ["serve", "--help"]).stdout
        #expect(balancerHelp.contains("(default 8081)") && config.contains(#"targets: ["127.0.0.1:8081"]"#))
        #expect(schedulerHelp.contains("(default 8090)") && config.contains(#"targets: ["127.0.0.1:8090"]"#))
        #expect(config.contains("job_name: autoscaler-loadbalancer") && config.contains("job_name: autoscaler-scheduler"))
    }
}
