import ArgumentParser
import AutoscalerCore
import Foundation
import Libvirt

/// Turns any error into one line on stderr and the documented exit code, instead of a stack dump.
public enum CommandFailure {
    /// Runs `body`; on failure prints `<command>: error: <message>` and exits with the error's code.
    public static func reporting<T>(_ command: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AutoscalerError {
            fail(command, error.description, code: error.exitCode)
        } catch let error as LibvirtError {
            fail(command, "libvirt: \(error.message)", code: 1)
        } catch is CancellationError {
            fail(command, "cancelled", code: 130)
        }
    }

    static func fail(_ command: String, _ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("\(command): error: \(message)\n".utf8))
        exit(code)
    }
}
