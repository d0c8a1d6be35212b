import AsyncHTTPClient
import AutoscalerAPI
import InstanceProviders
import Foundation
import NIOCore
import NIOHTTP1
import Scheduler
import TestSupport
import Testing

/// The `scheduler` executable as a user runs it: killed and restarted, its HTTP API, bad flags.
@Suite("scheduler command")
struct SchedulerCommandTests {
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = CommandRunner.binaries.appendingPathComponent("scheduler")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `webserver` processes started for `state` (their port files live there).
    static func webserverProcesses(of state: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return line.contains("webserver") && line.contains(state + "/")
        }
    }

    /// Killed (SIGKILL) while making its instances, then started again: the second run adopts
    /// what the first made, makes only what is missing, and nothing is orphaned or doubled.
    @Test func killedMidActionAndRestartedLeavesNoOrphanAndNoDuplicate() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            let state = lb.provider.configuration.stateDirectory
            let arguments = [
                "--provider", "process", "--state-dir", state, "--balancer", "http://127.0.0.1:\(lb.adminPort)", "--api-port", "0",
                "--min", "3", "--max", "4", "--interval", "0.1", "--history", state + "/history.sqlite", "--log-level", "error",
            ]
            let first = try Self.start(arguments)
            defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
            try await waitUntil(10, "the first instance") { try await lb.provider.instances().count >= 1 }
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let made = try await lb.provider.instances().count
            #expect(made < 3, "killed after all three were made; the test did not hit an action")

            let second = try Self.start(arguments)
            defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
            try await waitUntil(20, "three instances in service") {
                let backends = try await lb.stats().backends
                return backends.filter { $0.state == .active }.count == 3
            }
            try await Task.sleep(for: .milliseconds(500))  // a few more ticks: nothing more is made
            let instances = try await lb.provider.instances()
            #expect(instances.count == 3)
            #expect(Set(instances.map(\.name)) == ["web_vm1", "web_vm2", "web_vm3"])
            #expect(Self.webserverProcesses(of: state).count == 3, "one process per instance, no orphan")
            let events = try History(path: state + "/history.sqlite").events(since: 0)
            #expect(events.filter { $0.kind == .start }.count == 2)
            #expect(events.contains { $0.kind == .adopt })
            kill(second.processIdentifier, SIGTERM)
            second.waitUntilExit()
            #expect(second.terminationStatus == 0)
        }
    }

    @Test func apiAnswersAndGuardsManualScaling() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            let state = lb.provider.configuration.stateDirectory
            let port = 20_000 + Int.random(in: 0..<12_000)  // below the kernel's ephemeral range (32768+), where port-0 listeners land
            let process = try Self.start([
                "--provider", "process", "--state-dir", state, "--balancer", "http://127.0.0.1:\(lb.adminPort)", "--api-port", "\(port)",
                "--min", "1", "--max", "3", "--interval", "0.2", "--token", "s3cret", "--log-level", "error", "--capacity", "5",
            ])
            defer {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
            func call(_ path: String, method: HTTPMethod = .GET, body: String? = nil, token: String? = nil) async throws -> (UInt, String) {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                request.method = method
                if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                if let body {
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: body))
                }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
                return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            try await waitUntil(15, "the API and one instance") {
                guard let (status, body) = try? await call("/api/v1/status"), status == 200 else { return false }
                return body.contains(#""inService":1"#)
            }
            let (_, status) = try await call("/api/v1/status")
            #expect(status.contains(#""policy":"threshold""#) && status.contains(#""scaleUpThreshold":20"#))
            let (_, instances) = try await call("/api/v1/instances")
            #expect(instances.contains(#""name":"web_vm1""#) && instances.contains(#""health":"in_service""#))
            let (_, events) = try await call("/api/v1/events?since=0")
            #expect(events.contains(#""kind":"register""#))
            // Quality from the history: no traffic, so no demand; one instance in service is over.
            let (qualityStatus, quality) = try await call("/api/v1/quality?since=0")
            #expect(qualityStatus == 200, "\(quality)")
            let report = try JSONDecoder().decode(QualityReport.self, from: Data(quality.utf8))
            #expect(report.capacity == 5 && report.underProvisionedSeconds == 0 && report.metrics?.tauU == 0)
            #expect(report.seconds > 0 && report.instanceSeconds > 0)
            #expect(try await call("/api/v1/quality?since=x").0 == 400)
            let (_, samples) = try await call("/api/v1/samples?since=0")
            #expect(samples.contains(#""inService""#))
            #expect(try await call("/api/v1/events?since=yesterday").0 == 400)
            #expect(try await call("/api/v1/scale", method: .POST, body: #"{"desired":2}"#).0 == 401)
            #expect(try await call("/api/v1/scale", method: .POST, body: #"{"desired":2}"#, token: "wrong").0 == 401)
            #expect(try await call("/api/v1/scale", method: .POST, body: "not json", token: "s3cret").0 == 400)
            let (outside, message) = try await call("/api/v1/scale", method: .POST, body: #"{"desired":7}"#, token: "s3cret")
            #expect(outside == 400 && message.contains("outside"))
            #expect(try await call("/api/v1/scale", method: .POST, body: #"{"delta":1}"#, token: "s3cret").0 == 202)
            try await waitUntil(15, "a second instance") { try await lb.provider.instances().count == 2 }
            let (_, metrics) = try await call("/metrics")
            #expect(metrics.contains("scheduler_decisions_total") && metrics.contains("scheduler_actions_total"))
        }
    }

    /// The attacks a web page the user opens can make on the scheduler's loopback API: a
    /// cross-site form POST (text/plain, foreign Origin), DNS rebinding (foreign Host). Without
    /// --token, the scheduler makes one, mode 0600, and serves it only in its own dashboard page.
    @Test func webPagesCannotDriveTheScheduler() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            let state = lb.provider.configuration.stateDirectory
            let port = 20_000 + Int.random(in: 0..<12_000)
            let process = Process()
            process.executableURL = CommandRunner.binaries.appendingPathComponent("scheduler")
            process.arguments = [
                "--provider", "process", "--state-dir", state, "--balancer", "http://127.0.0.1:\(lb.adminPort)", "--api-port", "\(port)",
                "--min", "1", "--max", "3", "--interval", "0.2", "--log-level", "error",
            ]
            process.environment = ProcessInfo.processInfo.environment.merging(["AUTOSCALER_STATE_DIR": state]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
            func call(_ path: String, method: HTTPMethod = .GET, body: String? = nil, headers: [(String, String)] = []) async throws -> (UInt, String) {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                request.method = method
                for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
                if let body { request.body = .bytes(ByteBuffer(string: body)) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
                return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            try await waitUntil(15, "the API and one instance") {
                guard let (status, body) = try? await call("/api/v1/status"), status == 200 else { return false }
                return body.contains(#""inService":1"#)
            }
            let path = state + "/scheduler-\(port).token"
            let token = try #require(APIToken.read(path))
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode & 0o777 == 0o600)
            // The cross-site form: text/plain, a foreign Origin, no token.
            let form = try await call(
                "/api/v1/scale", method: .POST, body: #"{"delta":1}"#, headers: [("Content-Type", "text/plain"), ("Origin", "http://evil.example")])
            #expect(form.0 == 403, "\(form)")
            // Same origin but not JSON; JSON but no token.
            #expect(try await call("/api/v1/scale", method: .POST, body: #"{"delta":1}"#, headers: [("Content-Type", "text/plain"), ("Authorization", "Bearer \(token)")]).0 == 415)
            #expect(try await call("/api/v1/scale", method: .POST, body: #"{"delta":1}"#, headers: [("Content-Type", "application/json")]).0 == 401)
            // DNS rebinding: a foreign Host is not answered, not even the dashboard with its token.
            let rebound = try await call("/", headers: [("Host", "evil.example:\(port)")])
            #expect(rebound.0 == 421 && !rebound.1.contains(token))
            #expect(try await call("/api/v1/status", headers: [("Host", "evil.example")]).0 == 421)
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await lb.provider.instances().count == 1, "a refused request scaled")
            // The dashboard from loopback carries the token; with it, JSON from the same origin scales.
            #expect(try await call("/").1.contains(#"<meta name="autoscaler-token" content="\#(token)">"#))
            let allowed = try await call(
                "/api/v1/scale", method: .POST, body: #"{"delta":1}"#,
                headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(token)"), ("Origin", "http://127.0.0.1:\(port)")])
            #expect(allowed.0 == 202, "\(allowed)")
            try await waitUntil(15, "a second instance") { try await lb.provider.instances().count == 2 }
        }
    }

    @Test func badFlagsAreOneLineAndExit64() async throws {
        for arguments in [["--min", "5", "--max", "2"], ["--policy", "magic"], ["--api-host", "0.0.0.0"], ["--interval", "0"]] {
            let result = try await CommandRunner.run("scheduler", arguments + ["--provider", "process"])
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: "), "\(arguments): \(result.stderr)")
        }
        let metricCases: [([String], String)] = [
            (["--metric", "magic"], "'magic' is invalid for '--metric <metric>'"),
            (["--metric", "cpu", "--target", "0"], "--target for cpu must be a number > 0"),
            (["--metric", "latency"], "--metric latency needs its --target (an SLO in ms"),
            (["--metric", "cpu", "--metric", "cpu"], "--metric cpu is given twice"),
            (["--metric", "cpu", "--target", "60", "--target", "5"], "give one --target per --metric"),
            (["--metric", "prometheus", "--target", "5"], "--metric prometheus needs --prometheus-url and --prometheus-query"),
            (["--metric", "cpu", "--policy", "threshold"], "does not combine with --policy threshold"),
            (["--prometheus-url", "http://127.0.0.1:9090"], "are for --metric prometheus"),
            (["--metric", "latency", "--target", "200", "--quantile", "1"], "--quantile must be within 0 … 1"),
            (["--metric", "cpu", "--target", "150"], "at most 100, not 150"),
            (["--metric", "latency", "--target", "200", "--balancer", "haproxy:/run/haproxy.sock"], "HAProxy's Runtime API does not give"),
        ]
        for (arguments, message) in metricCases {
            let result = try await CommandRunner.run("scheduler", arguments + ["--provider", "process"])
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        // Checked at start: a Prometheus that does not answer is a one-line error, not a scheduler holding for ever.
        let noPrometheus = try await CommandRunner.run(
            "scheduler",
            ["--metric", "prometheus", "--target", "5", "--prometheus-url", "http://127.0.0.1:1", "--prometheus-query", "up", "--provider", "process"])
        #expect(noPrometheus.status == 12, "\(noPrometheus.stderr)")
        #expect(noPrometheus.stderr.hasPrefix("scheduler: error: --prometheus-query: cannot reach Prometheus at http://127.0.0.1:1"), "\(noPrometheus.stderr)")
        let unreachable = try await CommandRunner.run("scheduler", ["--balancer", "ftp://x", "--provider", "process"])
        #expect(unreachable.status == 11, "\(unreachable.stderr)")
        #expect(unreachable.stderr.hasPrefix("scheduler: error: load balancer: 'ftp://x' is not an admin URL"), "\(unreachable.stderr)")
    }
}

/// `scheduler simulate` as a user runs it.
@Suite("scheduler simulate command")
struct SimulateCommandTests {
    static func traceFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [
        ("seconds,rate\n", "trace has no rows"),
        ("0,5\n10,6\n5,7\n", "trace line 3: seconds must increase"),
        ("0,5\n10,-1\n", "trace line 2: seconds and rate must be numbers ≥ 0"),
        ("0,5\nten,6\n", "trace line 2: expected 'seconds,rate'"),
    ])
    func aBadTraceIsOneLineNamingTheLine(text: String, message: String) async throws {
        let path = try Self.traceFile(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await CommandRunner.run("scheduler", ["simulate", path, "--capacity", "10"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: \(path): \(message)"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func aMetricTheTraceDoesNotGiveIsRefused() async throws {
        let path = try Self.traceFile("0,5\n10,6\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let latency = try await CommandRunner.run("scheduler", ["simulate", path, "--capacity", "10", "--metric", "latency", "--target", "100"])
        #expect(latency.status == 64)
        #expect(latency.stderr.hasPrefix("Error: --metric latency: a trace of rates gives no latency signal"), "\(latency.stderr)")
        let cpu = try await CommandRunner.run("scheduler", ["simulate", path, "--capacity", "10", "--metric", "cpu", "--target", "70"])
        #expect(cpu.status == 0, "\(cpu.stderr)")
        #expect(cpu.stdout.contains("cpu 70"), "\(cpu.stdout)")
    }

    @Test func theStartupDefaultsToTheHistorysMedian() async throws {
        let trace = try Self.traceFile("0,10\n60,10\n")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UUID().uuidString).sqlite").path
        defer { for file in [trace, path] { try? FileManager.default.removeItem(atPath: file) } }
        let history = try History(path: path)
        for (start, served) in [(10.0, 14.0), (30.0, 36.0), (50.0, 58.0)] {
            try history.record(ScalingEvent(time: start, kind: .scaleUp, reason: "scale up"))
            try history.record(ScalingEvent(time: served, kind: .register, instance: "web_vm\(Int(start))", reason: "serves at 127.0.0.1:1"))
        }
        let result = try await CommandRunner.run("scheduler", ["simulate", trace, "--capacity", "10", "--history", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("startup 6 s: the median of 3 scale-ups in \(path)"), "\(result.stdout)")
        let empty = try await CommandRunner.run("scheduler", ["simulate", trace, "--capacity", "10", "--history", "/nonexistent.sqlite"])
        #expect(empty.status == 64 && empty.stderr.hasPrefix("Error: cannot read /nonexistent.sqlite"))
    }

    @Test func writesTheSummaryTheJSONAndTheTimeline() async throws {
        let path = try Self.traceFile("seconds,rate\n0,10\n60,60\n180,10\n400,10\n")
        let json = path + ".json"
        let timeline = path + ".timeline.csv"
        defer { for file in [path, json, timeline] { try? FileManager.default.removeItem(atPath: file) } }
        let result = try await CommandRunner.run(
            "scheduler",
            ["simulate", path, "--capacity", "10", "--scale-up-threshold", "80", "--scale-down-threshold", "30", "--json", json, "--timeline", timeline])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("threshold: "))
        #expect(result.stdout.contains("instance-hours"))
        let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        #expect(Set(decoded?.keys.map { $0 } ?? []) == ["policy", "seconds", "instanceSeconds", "actions", "underProvisionedSeconds", "metrics"])
        let metrics = decoded?["metrics"] as? [String: Any]
        #expect(Set(metrics?.keys.map { $0 } ?? []) == ["thetaU", "thetaO", "aU", "aO", "tauU", "tauO", "instability", "instabilityPrime", "jitter"])
        #expect(decoded?["seconds"] as? Double == 620)
        let rows = try String(contentsOfFile: timeline, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "seconds,rate,demand,inService,pending,desired")
        #expect(rows.count == 621)
        #expect(rows[61].hasPrefix("60.0,60.0,6,2,"))
    }
}
