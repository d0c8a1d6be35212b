import Foundation
import TestSupport
import Testing

/// The `scale-up` and `scale-down` executables, run as a user runs them.
@Suite("scale-up and scale-down commands")
struct CommandLineTests {
    static func run(_ executable: String, _ arguments: [String]) async throws -> CommandRunner.Result {
        try await CommandRunner.run(executable, arguments)
    }

    func stateDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("autoscaler-cli-\(UUID().uuidString)").path
    }

    @Test func processProviderRoundTrip() async throws {
        let state = stateDirectory()
        let up = try await Self.run("scale-up", ["--provider", "process", "--state-dir", state, "--log-level", "error"])
        #expect(up.status == 0, "\(up.stderr)")
        let fields = up.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(fields.first == "web_vm1")
        #expect(fields.last?.hasPrefix("127.0.0.1:") == true)

        let json = try await Self.run("scale-up", ["--provider", "process", "--state-dir", state, "--json", "--log-level", "error"])
        #expect(json.stdout.contains(#""name":"web_vm2""#))

        let down = try await Self.run("scale-down", ["--provider", "process", "--state-dir", state, "--log-level", "error"])
        #expect(down.status == 0 && down.stdout == "removed web_vm2\n")
        let named = try await Self.run("scale-down", ["web_vm1", "--provider", "process", "--state-dir", state, "--log-level", "error"])
        #expect(named.status == 0 && named.stdout == "removed web_vm1\n")
        let none = try await Self.run("scale-down", ["--provider", "process", "--state-dir", state])
        #expect(none.status == 9)
        #expect(none.stderr.contains("scale-down: error: there is no instance created by the autoscaler"))
    }

    @Test func warmPoolByHand() async throws {
        let state = stateDirectory()
        let common = ["--provider", "process", "--state-dir", state, "--log-level", "error"]
        let empty = try await Self.run("scale-up", ["--from-pool"] + common)
        #expect(empty.status == 1 && empty.stderr.contains("the warm pool is empty"), "\(empty.stderr)")
        let prepared = try await Self.run("scale-up", ["--warm", "--json"] + common)
        #expect(prepared.status == 0 && prepared.stdout.contains(#""warm":"paused""#), "\(prepared.stdout) \(prepared.stderr)")
        // Scale-down by hand leaves the member alone when it names none.
        let nothing = try await Self.run("scale-down", common)
        #expect(nothing.status == 9, "\(nothing.stderr)")
        let taken = try await Self.run("scale-up", ["--from-pool", "--json"] + common)
        #expect(taken.status == 0 && taken.stdout.contains(#""name":"web_vm1""#) && !taken.stdout.contains("warm"), "\(taken.stdout)")
        let back = try await Self.run("scale-down", ["--to-pool", "--warm-state", "saved"] + common)
        #expect(back.status == 0 && back.stdout == "held web_vm1 in the warm pool (saved)\n", "\(back.stdout) \(back.stderr)")
        let named = try await Self.run("scale-down", ["web_vm1"] + common)
        #expect(named.status == 0 && named.stdout == "removed web_vm1\n")
        let both = try await Self.run("scale-up", ["--warm", "--from-pool"] + common)
        #expect(both.status == 64 && both.stderr.contains("--warm and --from-pool exclude each other"))
    }

    @Test func severalHostsFromTheCommandLine() async throws {
        let directory = stateDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let first = try MultiHostProviderTests.node(directory, "a"), second = try MultiHostProviderTests.node(directory, "b")
        // Pack puts it on the first host given. (Each process opens its own test-driver state, so
        // one clone per command.)
        let up = try await Self.run(
            "scale-up", ["--provider", "libvirt", "--uri", first, "--uri", second, "--template", "tpl", "--placement", "pack", "--json", "--log-level", "error"])
        #expect(up.status == 0 && up.stdout.contains(#""host":"test:"#) && up.stdout.contains(#"a.xml""#), "\(up.stdout) \(up.stderr)")
        let twice = try await Self.run("scale-up", ["--uri", first, "--uri", first])
        #expect(twice.status == 64 && twice.stderr.contains("a --uri is given twice"), "\(twice.stderr)")
        let zero = try await Self.run("scale-up", ["--uri", first, "--uri", second, "--host-max", "0"])
        #expect(zero.status == 64 && zero.stderr.contains("--host-max must be ≥ 1"))
    }

    @Test(arguments: [
        (["--provider", "libvirt", "--uri", "qemu:///system?socket=/nonexistent/sock"], Int32(3), "libvirtd -d"),
        (["--provider", "libvirt", "--uri", "test:///default", "--template", "nope"], 4, "template domain 'nope' does not exist"),
        (["--provider", "libvirt", "--uri", "test:///default", "--template", "test"], 5, "is running"),
        (["--provider", "libvirt", "--uri", "test:///default", "--template", "test", "--name", "test"], 5, "is running"),
        (["--name", "bad name"], 64, "not a valid instance name"),
        (["--timeout", "0"], 64, "--timeout must be positive"),
        (["--provider", "bogus"], 64, "bogus"),
        (["--register", "ftp://x"], 11, "not an admin URL"),
    ])
    func scaleUpErrors(arguments: [String], status: Int32, message: String) async throws {
        let result = try await Self.run("scale-up", arguments + ["--state-dir", stateDirectory()])
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func registerFailureRemovesTheNewInstance() async throws {
        let state = stateDirectory()
        // Port 1 on loopback refuses connections: the balancer is not there.
        let result = try await Self.run("scale-up", ["--provider", "process", "--state-dir", state, "--register", "http://127.0.0.1:1"])
        #expect(result.status == 11)
        #expect(result.stderr.contains("cannot reach the admin API"))
        let records = try FileManager.default.contentsOfDirectory(atPath: state + "/instances").filter { $0.hasSuffix(".json") }
        #expect(records.isEmpty)
    }

    @Test func scaleDownRefusesFoundAndUnknown() async throws {
        let found = try await Self.run("scale-down", ["test", "--provider", "libvirt", "--uri", "test:///default"])
        #expect(found.status == 10)
        #expect(found.stderr.contains("'test' was not created by the autoscaler; refusing to delete it"))
        let unknown = try await Self.run("scale-down", ["ghost", "--provider", "process", "--state-dir", stateDirectory()])
        #expect(unknown.status == 9)
    }
}
