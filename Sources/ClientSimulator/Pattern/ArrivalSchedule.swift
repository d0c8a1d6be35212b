import Foundation

/// The times at which requests are due, from a pattern: evenly spaced at the current rate, or a
/// Poisson process with that rate. A sequence of seconds since start, ending at `duration`.
///
/// Even spacing integrates the rate, so a ramp or a step gets exactly its area's worth of
/// requests. Poisson arrivals use thinning against the peak rate (Lewis and Shedler), which is
/// exact for a varying rate.
public struct ArrivalSchedule: Sequence, IteratorProtocol, Sendable {
    public let pattern: LoadPattern
    public let duration: Double?
    public let poisson: Bool
    private var generator: SplitMix64
    private var clock = 0.0
    /// Accumulated "request credit" for even spacing: a request is due each time it reaches 1.
    private var credit = 1.0
    /// Step for integrating a varying rate; fine enough for rates up to tens of thousands per second.
    private static let step = 0.001

    public init(pattern: LoadPattern, duration: Double?, poisson: Bool = false, seed: UInt64 = 1) {
        self.pattern = pattern
        self.duration = duration
        self.poisson = poisson
        generator = SplitMix64(seed: seed ^ 0x5EED)
    }

    public mutating func next() -> Double? {
        poisson ? nextPoisson() : nextEven()
    }

    /// Requests handed out so far (even spacing of a constant rate counts them instead of adding
    /// up intervals, which drifts: 120 additions of 1/40 overshoot 3 s by a rounding error).
    private var emitted = 0

    private func ended(_ t: Double) -> Bool {
        if let duration { return t >= duration - 1e-9 }
        return false
    }

    private mutating func nextEven() -> Double? {
        guard pattern.peakRate > 0 else { return nil }
        // Walk forward until a whole request's worth of rate has accumulated. A constant rate jumps
        // straight there; a varying one integrates in small steps (and skips silent stretches).
        while !ended(clock) {
            if case .constant(let rate) = pattern {
                clock = Double(emitted) / rate
                if ended(clock) { return nil }
                emitted += 1
                return clock
            }
            if credit >= 1 {
                credit -= 1
                return clock
            }
            let rate = pattern.rate(at: clock)
            let gained = rate * Self.step
            if credit + gained >= 1 {
                clock += (1 - credit) / Swift.max(rate, .leastNonzeroMagnitude)
                credit = 1
            } else {
                credit += gained
                clock += Self.step
            }
        }
        return nil
    }

    private mutating func nextPoisson() -> Double? {
        let peak = pattern.peakRate
        guard peak > 0 else { return nil }
        while true {
            let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
            clock += -log(u) / peak
            if ended(clock) { return nil }
            if Double.random(in: 0..<1, using: &generator) * peak <= pattern.rate(at: clock) { return clock }
        }
    }
}
