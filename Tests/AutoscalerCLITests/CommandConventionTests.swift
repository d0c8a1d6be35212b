import Foundation
import TestSupport
import Testing

/// One convention for every executable: `--help` works; an unknown flag or a bad value exits 64
/// with argument-parser's `Error:` line first; a failure while running is one
/// `<command>: error:` line and a documented code.
@Suite("command-line convention of every executable")
struct CommandConventionTests {
    static let executables = ["loadbalancer", "scheduler", "clientsim", "scale-up", "scale-down", "webserver"]

    @Test(arguments: executables)
    func helpWorks(_ executable: String) async throws {
        let result = try await CommandRunner.run(executable, ["--help"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("USAGE: \(executable)"))
        // The scheduler's root help lists its subcommands; `serve` (the default) has the options.
        let options = executable == "scheduler" ? try await CommandRunner.run(executable, ["serve", "--help"]).stdout : result.stdout
        #expect(options.contains("--log-level"))
    }

    @Test(arguments: executables)
    func anUnknownFlagIsAUsageError(_ executable: String) async throws {
        let result = try await CommandRunner.run(executable, ["--no-such-flag"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: Unknown option '--no-such-flag'"), "\(result.stderr)")
    }

    /// A bad value of each kind of option each executable has: typed enums, numbers, ranges,
    /// checks that need the config file merged in.
    @Test(arguments: [
        ("loadbalancer", ["--balance", "random"], "--balance"),
        ("loadbalancer", ["--port", "70000"], "--port must be 0 to 65535"),
        ("loadbalancer", ["--check-interval", "0"], "--check-interval must be"),
        // Durations too long for Int64 milliseconds trapped (found by scripts/fuzz.sh config-file).
        ("loadbalancer", ["--check-interval", "1e300"], "--check-interval must be a number of seconds from 0.001 to 10^9"),
        ("scheduler", ["--cooldown", "1e300"], "--cooldown must be a number of seconds from 0 to 10^9"),
        ("scheduler", ["--retention-days", "1e300"], "--retention-days must be > 0 and at most 36500"),
        ("loadbalancer", ["--backend", "nohost"], "--backend must be [NAME=]HOST:PORT"),
        ("loadbalancer", ["--admin-host", "0.0.0.0"], "refusing to serve the admin API"),
        ("loadbalancer", ["--config", "/nonexistent.json"], "cannot read /nonexistent.json"),
        ("loadbalancer", ["--log-level", "loud"], "--log-level"),
        ("scheduler", ["--policy", "magic"], "--policy"),
        ("scheduler", ["--min", "5", "--max", "2"], "--min and --max"),
        ("scheduler", ["--provider", "cloud"], "--provider"),
        ("scheduler", ["simulate", "/nonexistent.csv", "--capacity", "1"], "cannot read /nonexistent.csv"),
        ("scheduler", ["simulate", "/nonexistent.csv", "--capacity", "0"], "--capacity must be"),
        ("scheduler", ["simulate", "/nonexistent.csv"], "--capacity"),
        ("clientsim", ["bogus"], "pattern"),
        ("clientsim", ["constant", "--rate=-3"], "--rate must be"),
        ("clientsim", ["trace"], "trace needs a FILE"),
        ("scale-up", ["--timeout", "0"], "--timeout must be positive"),
        ("scale-down", ["--drain-timeout", "0"], "--drain-timeout must be positive"),
        ("webserver", ["--port=-1"], "--port must be 0 to 65535"),
    ])
    func aBadValueIsAUsageError(executable: String, arguments: [String], message: String) async throws {
        let result = try await CommandRunner.run(executable, arguments)
        #expect(result.status == 64, "\(executable) \(arguments): \(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: "), "\(executable) \(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(executable) \(arguments): \(result.stderr)")
    }

    @Test func aBadConfigFileIsAUsageError() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lb-config-\(UUID().uuidString).json")
        try Data(#"{"balance": "random"}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await CommandRunner.run("loadbalancer", ["--config", file.path])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: \(file.path) is not a valid config file"), "\(result.stderr)")
    }

    /// Foundation's JSON5 reader traps on an unquoted key that is not UTF-8 (the config-file
    /// fuzz target's find): both commands refuse the file first.
    @Test(arguments: [["loadbalancer"], ["scheduler", "serve"]])
    func aConfigFileThatIsNotUTF8IsAUsageError(command: [String]) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).json")
        try Data([0x7B, 0xFE, 0xFF, 0xF4, 0x7A, 0x3A, 0x31, 0x7D]).write(to: file)  // {\xfe\xff\xf4z:1}
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await CommandRunner.run(command[0], Array(command.dropFirst()) + ["--config", file.path])
        #expect(result.status == 64)
        #expect(result.stderr.contains("is not UTF-8 text"), "\(result.stderr)")
    }

    @Test func aPortInUseIsOneLineAndExit1() async throws {
        let held = try ScriptedBackend { _ in [] }
        defer { held.stop() }
        let result = try await CommandRunner.run("loadbalancer", ["--port", "\(held.port)", "--admin-port", "0", "--log-level", "error"])
        #expect(result.status == 1)
        // (Hummingbird may log its own "Server shutdown error: Already closed" around it.)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("loadbalancer: error: a port is already in use") }, "\(result.stderr)")
    }
}
