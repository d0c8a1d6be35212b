import AutoscalerAPI
import Foundation

/// How the request rate changes over time: a pure function from seconds since start to requests
/// per second. Schedules and tests are built on it; nothing here sleeps or sends.
public enum LoadPattern: Sendable, Equatable {
    /// The same rate all the time.
    case constant(rate: Double)
    /// From one rate to another, linearly, over `seconds`; then stays at `to`.
    case ramp(from: Double, to: Double, seconds: Double)
    /// A spike: `base`, then `peak` from `at` for `length` seconds, then `base` again.
    case step(base: Double, peak: Double, at: Double, length: Double)
    /// A day compressed into `period` seconds: starts at `low` (night), peaks at `high` half-way.
    case sine(low: Double, high: Double, period: Double)
    /// Bursts and quiet spells of random length and rate (the original client simulator's kind
    /// of traffic), repeatable for a given seed.
    case random(RandomTraffic)
    /// Rates read from a file: `seconds,rate` rows; the rate holds until the next row.
    case trace(Trace)

    /// Requests per second at `t` seconds since the start; never negative.
    public func rate(at t: Double) -> Double {
        let value: Double
        switch self {
        case .constant(let rate):
            value = rate
        case .ramp(let from, let to, let seconds):
            value = seconds <= 0 || t >= seconds ? to : from + (to - from) * max(t, 0) / seconds
        case .step(let base, let peak, let at, let length):
            value = t >= at && t < at + length ? peak : base
        case .sine(let low, let high, let period):
            let phase = period > 0 ? (t.truncatingRemainder(dividingBy: period)) / period : 0
            value = low + (high - low) * (1 - cos(2 * Double.pi * phase)) / 2
        case .random(let traffic):
            value = traffic.rate(at: t)
        case .trace(let trace):
            value = trace.rate(at: t)
        }
        return max(0, value)
    }

    /// The highest rate it ever asks for (for Poisson thinning and for sizing).
    public var peakRate: Double {
        switch self {
        case .constant(let rate): max(0, rate)
        case .ramp(let from, let to, _): max(0, from, to)
        case .step(let base, let peak, _, _): max(0, base, peak)
        case .sine(let low, let high, _): max(0, low, high)
        case .random(let traffic): traffic.segments.map(\.rate).max() ?? 0
        case .trace(let trace): trace.peakRate
        }
    }

    /// A short description for logs and the summary.
    public var summary: String {
        func r(_ value: Double) -> String { value.formatted(decimals: 1) }
        switch self {
        case .constant(let rate): return "constant \(r(rate)) req/s"
        case .ramp(let from, let to, let seconds): return "ramp \(r(from)) → \(r(to)) req/s over \(r(seconds)) s"
        case .step(let base, let peak, let at, let length): return "step \(r(base)) → \(r(peak)) req/s at \(r(at)) s for \(r(length)) s"
        case .sine(let low, let high, let period): return "sine \(r(low))–\(r(high)) req/s, period \(r(period)) s"
        case .random(let traffic): return "random bursts up to \(r(traffic.segments.map(\.rate).max() ?? 0)) req/s (seed \(traffic.seed))"
        case .trace(let trace): return "trace of \(trace.points.count) points"
        }
    }
}


extension Double {
    /// Fixed decimals without Foundation's formatters.
    func formatted(decimals: Int) -> String {
        let scale = (0..<decimals).reduce(1.0) { value, _ in value * 10 }
        let rounded = (self * scale).rounded() / scale
        var text = "\(rounded)"
        if decimals == 0, text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}
