import Foundation

/// The bearer token of a local HTTP API (the balancer's admin API, the scheduler's API), kept in a
/// file only its user can read, so that the other commands and the dashboard find it.
///
/// Mutating calls always need a token: with none configured, the API makes one when it starts
/// (or takes the one its file holds from an earlier run) and writes it, mode 0600, to
/// ``file(for:port:)``. A web page the user opens can send requests to loopback, but it cannot
/// read that file (Jupyter and Docker guard their local APIs the same way).
public enum APIToken {
    /// Which API a token is for.
    public enum Role: String, Sendable {
        case loadbalancer
        case scheduler
    }

    /// Where the autoscaler keeps state when not told otherwise: `$AUTOSCALER_STATE_DIR`, else
    /// `$XDG_STATE_HOME/autoscaler`, else `~/.local/state/autoscaler`.
    public static var stateDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["AUTOSCALER_STATE_DIR"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/autoscaler" }
        return NSHomeDirectory() + "/.local/state/autoscaler"
    }

    /// `<state dir>/<role>-<port>.token`: one per port, since several may run at once.
    public static func file(for role: Role, port: Int) -> String {
        "\(stateDirectory)/\(role.rawValue)-\(port).token"
    }

    /// The token in `path`, if it holds one.
    public static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// The token in `path`, or a new random one written there with mode 0600 (the directory made
    /// with 0700 if missing). A file that others can read is replaced.
    public static func loadOrCreate(_ path: String) throws -> String {
        let manager = FileManager.default
        if let existing = read(path), let attributes = try? manager.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 == 0
        {
            return existing
        }
        let directory = (path as NSString).deletingLastPathComponent
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var bytes = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        // Written to a private temporary file, then renamed: never readable by others, never half.
        let temporary = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
        guard manager.createFile(atPath: temporary, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        if rename(temporary, path) != 0 {
            try? manager.removeItem(atPath: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return token
    }

    /// Compares in time independent of where the first difference is.
    public static func matches(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
