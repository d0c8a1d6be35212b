import AsyncHTTPClient
import Foundation
import Logging
import InstanceProviders
import AutoscalerClient
import NIOCore
import Scheduler
import TestSupport
import Testing

@Suite("scheduler reload")
struct SchedulerReloadTests {
    /// Only the policy's settings apply; the others are named as waiting for a restart.
    @Test func changesSplitIntoAppliedAndRestart() {
        let old = Scheduler.Configuration()
        var new = old
        new.rules.minimum = 3
        new.policy = .threshold(up: 30, down: 5)
        new.apiPort = 9999
        let changes = old.reloadChanges(to: new)
        #expect(changes.applied == ["policy: threshold(up: 20.0, down: 5.0) → threshold(up: 30.0, down: 5.0)", "min: 2 → 3"])
        #expect(changes.needRestart == ["apiPort: 8090 → 9999"])
        #expect(old.reloadChanges(to: old) == ([], []))
    }

    /// The metrics and their targets apply at the next tick; adding prometheus, whose query is
    /// made at start, waits for a restart and the running metrics stay.
    @Test func metricsApplyAndAPrometheusMetricWaitsForARestart() throws {
        var configuration = Scheduler.Configuration()
        configuration.metrics = [MetricTarget(.requests, target: 10)]
        let scheduler = Scheduler(
            configuration: configuration, provider: try ProcessProvider(configuration: .init(stateDirectory: NSTemporaryDirectory() + UUID().uuidString)),
            balancer: try BalancerAdminClient(url: "http://127.0.0.1:1"), history: try History(path: nil), logger: Logger(label: "test"))
        var cpu = configuration
        cpu.metrics = [MetricTarget(.cpu, target: 60), MetricTarget(.latency, target: 200)]
        let applied = scheduler.reload(cpu)
        #expect(applied.applied == ["metrics: requests 10 req/VM → cpu 60 % CPU, latency 200 ms"])
        #expect(scheduler.configuration.metrics == cpu.metrics)
        #expect(scheduler.status.metrics.map(\.metric) == [.cpu, .latency])
        var prometheus = cpu
        prometheus.metrics = [MetricTarget(.prometheus, target: 5)]
        let deferred = scheduler.reload(prometheus)
        #expect(deferred.applied.isEmpty)
        #expect(deferred.needRestart.contains { $0.hasPrefix("metrics: adding prometheus needs a restart") })
        #expect(scheduler.configuration.metrics == cpu.metrics)
    }

    /// SIGHUP with a new minimum: the scheduler scales to it, an event says what changed; a bad
    /// file and an unknown key are refused, and it keeps running with its settings.
    @Test func sighupAppliesThePolicyAndRefusesABadFile() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            let state = lb.provider.configuration.stateDirectory
            let config = state + "/scheduler.json"
            func write(_ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: config)) }
            try write(#"{"min": 1, "max": 3, "scaleUpThreshold": 20, /* JSON5 */ }"#)
            let port = 20_000 + Int.random(in: 0..<12_000)
            let log = state + "/scheduler.log"
            FileManager.default.createFile(atPath: log, contents: nil)
            let process = Process()
            process.executableURL = CommandRunner.binaries.appendingPathComponent("scheduler")
            process.arguments = [
                "--provider", "process", "--state-dir", state, "--balancer", "http://127.0.0.1:\(lb.adminPort)", "--api-port", "\(port)",
                "--interval", "0.2", "--config", config,
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
            defer {
                if process.isRunning { kill(process.processIdentifier, SIGTERM) }
                process.waitUntilExit()
            }
            func status() async throws -> String {
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/status"), timeout: .seconds(5))
                return String(buffer: try await response.body.collect(upTo: 1 << 20))
            }
            try await waitUntil(20, "one instance in service") { (try? await status())?.contains(#""inService":1"#) == true }
            try write(#"{"min": 2, "max": 3, "scaleUpThreshold": 30, "apiPort": 1, "drainTimeout": 12}"#)
            kill(process.processIdentifier, SIGHUP)
            try await waitUntil(20, "a second instance for the new minimum") { (try? await status())?.contains(#""inService":2"#) == true }
            let events = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/events?since=0"), timeout: .seconds(5)
            ).body.collect(upTo: 1 << 20)
            let text = String(buffer: events)
            #expect(text.contains(#""kind":"reload""#) && text.contains("min: 1 → 2") && text.contains("threshold(up: 30.0"), "\(text)")
            #expect(try await status().contains(#""scaleUpThreshold":30"#))
            for (index, bad) in [#"{"min": "two"}"#, #"{"min": 2, "scaleUpTreshold": 30}"#].enumerated() {
                try write(bad)
                kill(process.processIdentifier, SIGHUP)
                try await waitUntil(5, "refusal \(index + 1) logged") {
                    ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "reload refused").count == index + 2
                }
            }
            let logText = try String(contentsOfFile: log, encoding: .utf8)
            #expect(logText.contains("is not a valid config file") && logText.contains("unknown key scaleUpTreshold"))
            #expect(logText.contains("kept until a restart: drainTimeout: 30 s → 12 s"), "\(logText)")
            #expect(!logText.contains("apiPort: \(port) → 1"), "the flag wins over the file: no change")
            #expect(process.isRunning)
            #expect(try await status().contains(#""minimum":2"#))
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }
}
