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
    /// JSON5 is accepted, so the installed examples can carry comments. A file that cannot be
    /// read or decoded is a usage error.
    public static func configFile<File: Decodable>(_ path: String?, empty: File) throws -> File {
        guard let path else { return empty }
        return try decodeConfig(File.self, at: path)
    }

    /// Refuses a config file with a key that none of `files` (the empty `File` structs that read
    /// parts of it) knows: a misspelt setting would otherwise be ignored without a word.
    public static func checkConfigKeys(_ path: String?, files: [Any]) throws {
        guard let path else { return }
        let known = Set(files.flatMap { Mirror(reflecting: $0).children.compactMap(\.label) })
        let unknown = try decodeConfig(TopLevelKeys.self, at: path).keys.filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ValidationError("\(path): unknown key\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    private static func decodeConfig<Value: Decodable>(_ type: Value.Type, at path: String) throws -> Value {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        // Foundation's JSON5 reader traps on an unquoted key that is not UTF-8 (found by the
        // config-file fuzz target): such a file is refused before it gets there.
        guard String(validating: data, as: UTF8.self) != nil else { throw ValidationError("\(path) is not UTF-8 text") }
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        do {
            return try decoder.decode(Value.self, from: data)
        } catch {
            throw ValidationError("\(path) is not a valid config file: \(error)")
        }
    }

    /// The keys of a JSON object, whatever their values.
    private struct TopLevelKeys: Decodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let keys: [String]

        init(from decoder: any Decoder) throws {
            keys = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)
        }
    }
}
