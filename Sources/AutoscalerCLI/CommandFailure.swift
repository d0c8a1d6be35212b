import ArgumentParser
import AutoscalerAPI
import Foundation
import UnixSignals

/// An error that a command reports as one line and a documented exit code.
public protocol ReportableError: Error {
    /// One line, without the command's name.
    var commandLineMessage: String { get }
    var exitCode: Int32 { get }
}

extension AutoscalerError: ReportableError {
    public var commandLineMessage: String { description }
}

/// Turns any error into one line on stderr and the documented exit code, instead of a stack dump.
public enum CommandFailure {
    /// Runs `body`; on failure prints `<command>: error: <message>` and exits with the error's code.
    ///
    /// SIGINT or SIGTERM cancels `body` instead of killing the process, so that it can remove what
    /// it made half-way (a VM that was cloned but is not serving yet); then exits 130.
    public static func reporting<T: Sendable>(_ command: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
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
        } catch let error as any ReportableError {
            fail(command, error.commandLineMessage, code: error.exitCode)
        } catch is CancellationError {
            fail(command, "interrupted; nothing half-made was left behind", code: 130)
        }
    }

    static func fail(_ command: String, _ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("\(command): error: \(message)\n".utf8))
        exit(code)
    }
}
