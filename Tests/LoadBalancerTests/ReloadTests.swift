import AutoscalerAPI
import Foundation
import LoadBalancer
import Synchronization
import TestSupport
import Testing

@Suite("loadbalancer reload")
struct ReloadTests {
    /// The plan is a pure comparison: what moves, what goes, what applies, what waits for a restart.
    @Test func planSaysWhatChanges() throws {
        var old = LoadBalancer.Configuration()
        old.backends = [("a", try #require(Endpoint("127.0.0.1:9001"))), ("b", try #require(Endpoint("127.0.0.1:9002")))]
        var new = old
        new.backends = [("b", try #require(Endpoint("127.0.0.1:9012"))), ("c", try #require(Endpoint("127.0.0.1:9003")))]
        new.algorithm = .leastconn
        new.maxBodyBytes = 10
        new.port = 9090
        let plan = old.reloadPlan(to: new)
        #expect(plan.register.map(\.name) == ["b", "c"])
        #expect(plan.drain == ["a"])
        #expect(plan.applied == ["balance: roundrobin → leastconn", "maxBodyBytes: none → 10"])
        #expect(plan.needRestart == ["port: 8080 → 9090"])
        #expect(old.reloadPlan(to: old).isEmpty)
    }

    /// A reload whose new backends all fail their first check keeps the old ones serving, rather
    /// than leave every request a 503.
    @Test func aSwapToDeadBackendsKeepsTheOldOnes() async throws {
        try await BalancerHarness.with(backends: 1) { lb in
            var new = lb.balancer.configuration
            new.backends = [("dead", Endpoint(host: "127.0.0.1", port: 1))]
            let plan = try await lb.balancer.reload(new)
            #expect(plan.register.map(\.name) == ["dead"] && plan.drain.isEmpty)
            #expect(plan.keptForLackOfOthers == ["web_vm1"])
            for _ in 0..<5 { #expect(try await lb.request().status == 200) }
            #expect(try await lb.stats().backends.map(\.name).sorted() == ["dead", "web_vm1"])
        }
    }

    /// SIGHUP under load: the config's backends swap (one registered, one drained), the algorithm
    /// and a limit change, and no connection drops; a bad file or an unknown key is refused with
    /// a log line and the settings stay.
    @Test func sighupReloadsWithoutDroppingAConnection() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-reload-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func spawn(_ name: String, _ arguments: [String], log: String? = nil) throws -> Process {
            let process = Process()
            process.executableURL = CommandRunner.binaries.appendingPathComponent(name)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            if let log {
                FileManager.default.createFile(atPath: log, contents: nil)
                process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            } else {
                process.standardError = FileHandle.nullDevice
            }
            try process.run()
            return process
        }
        var processes: [Process] = []
        defer {
            for process in processes where process.isRunning { process.terminate() }
            for process in processes { process.waitUntilExit() }
        }
        var ports: [String: Int] = [:]
        for name in ["a", "b"] {
            processes.append(try spawn("webserver", ["--port", "0", "--port-file", "\(directory)/\(name).port", "--name", name, "--log-level", "error"]))
            try await waitUntil(10, "webserver \(name)") { FileManager.default.fileExists(atPath: "\(directory)/\(name).port") }
            try await waitUntil(5, "webserver \(name)'s port") {
                (try? String(contentsOfFile: "\(directory)/\(name).port", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } != nil
            }
            ports[name] = Int(try String(contentsOfFile: "\(directory)/\(name).port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let config = "\(directory)/loadbalancer.json"
        func write(_ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: config)) }
        try write(
            """
            {
              // JSON5: comments and a trailing comma are fine
              "backends": ["a=127.0.0.1:\(ports["a"]!)"],
              "checkInterval": 0.2,
            }
            """)
        let port = 20_000 + Int.random(in: 0..<12_000)
        let log = "\(directory)/lb.log"
        let balancer = try spawn(
            "loadbalancer", ["--config", config, "--port", "\(port)", "--admin-port", "\(port + 1)", "--threads", "2"], log: log)
        processes.insert(balancer, at: 0)
        func answer(_ request: String = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") async -> String {
            (try? await RawHTTP.exchange(port: port, request)) ?? ""
        }
        try await waitUntil(10, "the balancer serving from a") { await answer().contains("\r\n\r\na") }

        // Keep-alive clients, each sending requests back to back over one connection.
        let stop = StopFlag()
        let loops = (0..<8).map { [port] _ in
            Task { [stop] in
                try await onThread { () -> (ok: Int, bad: Int, dropped: Int) in
                    var (ok, bad) = (0, 0)
                    let client = try RawHTTPClient(port: port)
                    while !stop.isSet {
                        do {
                            let response = try client.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                            if response.count == 1, response[0].status == 200, response[0].complete { ok += 1 } else { bad += 1 }
                        } catch {
                            return (ok, bad, 1)
                        }
                    }
                    return (ok, bad, 0)
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        try write(#"{"backends": ["b=127.0.0.1:\#(ports["b"]!)"], "balance": "leastconn", "maxBodyBytes": 10, "adminHost": "127.0.0.2", "checkInterval": 0.2}"#)
        kill(balancer.processIdentifier, SIGHUP)
        try await waitUntil(10, "new connections served by b only") {
            let answers = await [answer(), answer(), answer()]
            return answers.allSatisfy { $0.contains("\r\n\r\nb") }
        }
        try await Task.sleep(for: .milliseconds(300))
        // A bad value, then an unknown key: refused, the settings stay.
        try write(#"{"balance": "random"}"#)
        kill(balancer.processIdentifier, SIGHUP)
        try await waitUntil(5, "the refusal logged") { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("reload refused") }
        try write(#"{"backends": ["b=127.0.0.1:\#(ports["b"]!)"], "maxConection": 5}"#)
        kill(balancer.processIdentifier, SIGHUP)
        try await waitUntil(5, "the unknown key logged") { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("unknown key maxConection") }
        try await Task.sleep(for: .milliseconds(300))
        stop.set()
        var totals = (ok: 0, bad: 0, dropped: 0)
        for loop in loops {
            let result = try await loop.value
            totals = (totals.ok + result.ok, totals.bad + result.bad, totals.dropped + result.dropped)
        }
        #expect(totals.ok > 50 && totals.bad == 0 && totals.dropped == 0, "\(totals)")
        #expect(balancer.isRunning)
        #expect(await answer().contains("\r\n\r\nb"), "b still serves after the refused reloads")
        let tooLong = await answer("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nConnection: close\r\n\r\n01234567890123456789")
        #expect(tooLong.hasPrefix("HTTP/1.1 413"), "maxBodyBytes 10 applies to new connections: \(tooLong.prefix(40))")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("kept until a restart: adminHost: 127.0.0.1 → 127.0.0.2"), "\(text)")
        balancer.terminate()
        balancer.waitUntilExit()
        #expect(balancer.terminationStatus == 0)
    }
}

/// Tells the client loops to end.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
