import Foundation

/// Runs one of the package's executables as a user would, capturing its output.
public enum CommandRunner {
    /// The build folder that holds the executables (and the test bundle).
    public static let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs it on a thread of its own (waiting for a process must not hold one of the cooperative
    /// pool's two threads: in-process load tests measured the stall as latency).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        let url = binaries.appendingPathComponent(executable)
        return try await onThread { try runBlocking(url, arguments, environment: environment) }
    }

    /// Runs a tool of the system (`path` absolute), its standard input empty.
    public static func runTool(_ path: String, _ arguments: [String]) async throws -> Result {
        try await onThread { try runBlocking(URL(fileURLWithPath: path), arguments, environment: [:]) }
    }

    /// A tool that did not do its job.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    private static func runBlocking(_ executable: URL, _ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
