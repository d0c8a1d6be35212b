import Foundation
import LoadBalancer
import TestSupport
import Testing

/// `scale-up --register` and `scale-down --drain` against a real balancer, as a user runs them.
@Suite("scale-up and scale-down keep the balancer in step")
struct ScalingWithBalancerTests {
    static func run(_ executable: String, _ arguments: [String]) async throws -> CommandRunner.Result {
        try await CommandRunner.run(executable, arguments)
    }

    @Test func registerThenDrain() async throws {
        try await BalancerHarness.with(backends: 0, configure: { $0.adminToken = "t0k" }) { lb in
            let state = FileManager.default.temporaryDirectory.appendingPathComponent("scale-lb-\(UUID().uuidString)").path
            let admin = "http://127.0.0.1:\(lb.adminPort)"
            let common = ["--provider", "process", "--state-dir", state, "--log-level", "error"]

            let refused = try await Self.run("scale-up", common + ["--register", admin, "--token", "wrong"])
            #expect(refused.status == 11)
            #expect(refused.stderr.contains("check the admin token"))

            let up = try await Self.run("scale-up", common + ["--register", admin, "--token", "t0k"])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(up.stdout.hasPrefix("web_vm1 127.0.0.1:"))
            let answer = try await lb.request()
            #expect(answer.status == 200 && answer.instance == "web_vm1")

            let down = try await Self.run("scale-down", common + ["--drain", admin, "--token", "t0k"])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(down.stdout == "removed web_vm1\n")
            let stats = try await lb.stats()
            #expect(stats.backends.isEmpty)
            #expect(try await lb.request().status == 503)
        }
    }
}
