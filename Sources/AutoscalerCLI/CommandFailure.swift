import ArgumentParser
import Foundation
import UnixSignals

/// An error that a command reports as one line and a documented exit code.
public protocol ReportableError: Error {
    /// One line, without the command's name.
    var commandLineMessage: String { get }
    var exitCode: Int32 { get }
}

/// A failure a command describes itself (a port in use, a file it cannot write).
public struct CommandError: ReportableError {
    public let commandLineMessage: String
    public let exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 1) {
        self.commandLineMessage = message
        self.exitCode = exitCode
    }
}

/// The one error path of every command.
///
/// - A usage error (an unknown flag, a bad value, a bad config file) is a `ValidationError`:
///   argument-parser prints `Error: <message>` and the usage, and exits 64.
/// - A failure while running prints `<command>: error: <message>` on one line and exits with the
///   error's documented code (``ReportableError``), 1 for anything else.
/// - Commands never call `exit()`: they throw, and argument-parser exits.
public enum CommandFailure {
    /// Runs `body` and turns its failure into one line and an exit code (see above).
    ///
    /// With `trappingSignals` (the one-step commands), SIGINT or SIGTERM cancels `body` instead of
    /// killing the process, so that it can remove what it made half-way (a VM that was cloned but
    /// is not serving yet); then exits 130. Services leave signals to their `ServiceGroup`.
    public static func reporting<T: Sendable>(
        _ command: String, trappingSignals: Bool = true, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        do {
            guard trappingSignals else { return try await body() }
            return try await withThrowingTaskGroup(of: T?.self) { group in
                let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
                group.addTask {
                    for await _ in signals { throw CancellationError() }
                    return nil
                }
                group.addTask { try await body() }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let result { return result }
                }
                throw CancellationError()
            }
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch let error as any ReportableError {
            throw fail(command, error.commandLineMessage, code: error.exitCode)
        } catch is CancellationError {
            throw fail(command, "interrupted; nothing half-made was left behind", code: 130)
        } catch {
            throw fail(command, "\(error)", code: 1)
        }
    }

    static func fail(_ command: String, _ message: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("\(command): error: \(message)\n".utf8))
        return ExitCode(code)
    }
}
