import Foundation
import LoadBalancer
import Testing

/// `scale-up --register` and `scale-down --drain` against a real balancer, as a user runs them.
@Suite("scale-up and scale-down keep the balancer in step")
struct ScalingWithBalancerTests {
    static let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func registerThenDrain() async throws {
        try await BalancerHarness.with(backends: 0, configure: { $0.adminToken = "t0k" }) { lb in
            let state = FileManager.default.temporaryDirectory.appendingPathComponent("scale-lb-\(UUID().uuidString)").path
            let admin = "http://127.0.0.1:\(lb.adminPort)"
            let common = ["--provider", "process", "--state-dir", state, "--log-level", "error"]

            let refused = try Self.run("scale-up", common + ["--register", admin, "--token", "wrong"])
            #expect(refused.status == 11)
            #expect(refused.stderr.contains("check the admin token"))

            let up = try Self.run("scale-up", common + ["--register", admin, "--token", "t0k"])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(up.stdout.hasPrefix("web_vm1 127.0.0.1:"))
            let answer = try await lb.request()
            #expect(answer.status == 200 && answer.instance == "web_vm1")

            let down = try Self.run("scale-down", common + ["--drain", admin, "--token", "t0k"])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(down.stdout == "removed web_vm1\n")
            let stats = try await lb.stats()
            #expect(stats.backends.isEmpty)
            #expect(try await lb.request().status == 503)
        }
    }
}
