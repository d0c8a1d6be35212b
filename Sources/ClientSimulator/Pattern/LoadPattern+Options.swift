import AutoscalerAPI
import Foundation

/// Building a pattern from the command line's words and numbers, with the defaults each kind uses.
extension LoadPattern {
    public enum Kind: String, Sendable, CaseIterable {
        case constant, ramp, step, sine, random, trace
    }

    /// A bad pattern description, with a message for the user.
    public struct OptionError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }

        public init(message: String) {
            self.message = message
        }
    }

    /// The pattern `kind` with the given numbers, each nil for the kind's default:
    /// - constant: `rate` (10);
    /// - ramp: `base` (0) to `rate` (20) over `period` s (60);
    /// - step: `base` (2), a spike to `rate` (20) at `at` s (10) lasting `period` s (30);
    /// - sine: between `base` (1) and `rate` (15), period `period` s (120);
    /// - random: bursts up to `rate` (15), quiet spells up to `base` (1), from `seed`;
    /// - trace: the rows of `traceText` (`seconds,rate` CSV).
    public static func make(
        _ kind: Kind, rate: Double? = nil, base: Double? = nil, period: Double? = nil, at: Double? = nil, seed: UInt64 = 1,
        traceText: String? = nil
    ) throws(OptionError) -> LoadPattern {
        for (name, value) in [("--rate", rate), ("--base-rate", base), ("--at", at)] {
            if let value, !(value >= 0 && value.isFinite) { throw OptionError(message: "\(name) must be a number ≥ 0") }
        }
        if let period, !(period > 0 && period.isFinite) { throw OptionError(message: "--period must be a number > 0") }
        switch kind {
        case .constant:
            return .constant(rate: rate ?? 10)
        case .ramp:
            return .ramp(from: base ?? 0, to: rate ?? 20, seconds: period ?? 60)
        case .step:
            return .step(base: base ?? 2, peak: rate ?? 20, at: at ?? 10, length: period ?? 30)
        case .sine:
            let low = base ?? 1
            let high = rate ?? 15
            guard high >= low else { throw OptionError(message: "sine: --rate (high) must be at least --base-rate (low)") }
            return .sine(low: low, high: high, period: period ?? 120)
        case .random:
            let burst = rate ?? 15
            let quiet = base ?? 1
            guard burst > 0, quiet <= burst else { throw OptionError(message: "random: --rate must be > 0 and ≥ --base-rate") }
            return .random(RandomTraffic(seed: seed, burstRate: min(burst, max(quiet, burst * 0.4))...burst, quietRate: (quiet * 0.2)...quiet))
        case .trace:
            guard let traceText else { throw OptionError(message: "trace needs a file: clientsim trace FILE") }
            return .trace(try parseTrace(traceText))
        }
    }

    /// Rows of `seconds,rate`, seconds strictly increasing; blank lines, `#` comments and one
    /// header line are allowed.
    public static func parseTrace(_ text: String) throws(OptionError) -> Trace {
        do {
            return try Trace.parse(text)
        } catch {
            throw OptionError(message: error.message)
        }
    }
}
