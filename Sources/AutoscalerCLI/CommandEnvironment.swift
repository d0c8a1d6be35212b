import ArgumentParser
import Foundation

/// What the commands read from outside their flags, read in one place.
public enum CommandEnvironment {
    /// `$AUTOSCALER_TOKEN`, the default token of both HTTP APIs; nil when unset or empty.
    public static var token: String? {
        ProcessInfo.processInfo.environment["AUTOSCALER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether `host` is a loopback address, where an API may go without a token.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The JSON config file at `path` (`--config`), or `empty` without one. Its keys are the
    /// commands' options in camelCase; the commands merge flag ?? file ?? default, flags winning.
    /// A file that cannot be read or decoded is a usage error.
    public static func configFile<File: Decodable>(_ path: String?, empty: File) throws -> File {
        guard let path else { return empty }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        do {
            return try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw ValidationError("\(path) is not a valid config file: \(error)")
        }
    }
}
