import Foundation
import InstanceProviders
import Testing

/// The `cpu` metric's reading of a process instance: its CPU time from `/proc/<pid>/stat`.
@Suite("process CPU time")
struct ProcessCPUTimeTests {
    static func start(_ script: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        return process
    }

    /// A busy process gains CPU time, a sleeping one does not; a process that is gone reads nil.
    @Test func busyGainsIdleDoesNot() async throws {
        // At the lowest priority: a busy loop must not slow the tests that run beside it.
        let busy = try Self.start("exec nice -n 19 sh -c 'while :; do :; done'")
        let idle = try Self.start("exec sleep 30")
        // SIGKILL: the test process may ignore SIGTERM (a service group's signal handling), and
        // its children inherit that.
        defer {
            for process in [busy, idle] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            busy.waitUntilExit()
            idle.waitUntilExit()
        }
        let before = try #require(ChildProcess.cpuTime(of: busy.processIdentifier))
        let idleBefore = try #require(ChildProcess.cpuTime(of: idle.processIdentifier))
        // The busy loop gains 100 ms of CPU time, however loaded the cores are (at most 20 s of
        // waiting); over the same time the sleeper gains next to nothing.
        var gained = Duration.zero
        for _ in 0..<200 where gained < .milliseconds(100) {
            try await Task.sleep(for: .milliseconds(100))
            gained = try #require(ChildProcess.cpuTime(of: busy.processIdentifier)) - before
        }
        let idleGained = try #require(ChildProcess.cpuTime(of: idle.processIdentifier)) - idleBefore
        #expect(gained >= .milliseconds(100), "\(gained)")
        #expect(idleGained <= .milliseconds(20), "\(idleGained)")
        kill(busy.processIdentifier, SIGKILL)
        busy.waitUntilExit()
        #expect(ChildProcess.cpuTime(of: busy.processIdentifier) == nil)
    }
}
