import ArgumentParser

extension Duration {
    /// The longest duration an option takes, in seconds (about 31 years): beyond it the
    /// milliseconds would not fit in Int64, and `--cooldown 1e300` trapped (found by
    /// `scripts/fuzz.sh config-file`).
    public static let longestOptionSeconds = 1e9

    /// `seconds` given as `--option` (or its config-file key): a usage error unless it is a number
    /// of seconds from 0.001 (0 with `allowZero`) to ``longestOptionSeconds``.
    public static func option(_ seconds: Double, _ option: String, allowZero: Bool = false) throws -> Duration {
        let least = allowZero ? 0 : 0.001
        guard seconds.isFinite, seconds >= least, seconds <= longestOptionSeconds else {
            throw ValidationError("--\(option) must be a number of seconds from \(allowZero ? "0" : "0.001") to 10^9")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
