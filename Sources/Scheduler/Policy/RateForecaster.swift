import Foundation

/// A short-term forecast of the request rate: Holt's linear trend with a damped trend (Gardner
/// and McKenzie's damped-trend exponential smoothing) over the rate measured each tick. It knows
/// only what it was given, so a forecast at time t uses nothing after t.
///
/// Why this model, measured with `scripts/bench/simulate-traces.sh` on the four real traces:
/// - A trend model, because what matters is the ramp in the next startup time (30 s here): it
///   needs no history to start and costs a few multiplications a tick.
/// - Damped (the trend's effect shrinks by ``damping`` per second ahead), because the traces
///   step from row to row (60 s, 3600 s) and an undamped trend extrapolates every step: at 0.97
///   the predictive policy costs 9 % more instance-hours than the rule per trace on average
///   instead of 15 %, for τ_U 0.49 of the rule's instead of 0.43 (and likewise at 10 s and 60 s
///   startups).
/// - Not seasonal: a seasonal naive forecast (yesterday's profile, 5-minute buckets, scaled to
///   today's level) once 24 h of history exist did not lower τ_U on the two 3-day traces, at 30 s
///   or 300 s startups: World Cup matches move from day to day (τ_U 0 → 0.7 of the rule's), and
///   on Wikipedia's daily cycle it saved instance-hours but caught no rise the trend missed.
///   Choosing the model with the smaller recent error picked the seasonal one nearly always (it
///   is close to "no change", the least-error forecast at 30 s) and lost the rises.
/// - Weights α 0.3, β 0.1: a faster trend (β 0.2) chased bursts and cost up to 59 % more
///   instance-hours; a slower one (β 0.05) missed half the gain.
public struct RateForecaster: Sendable, Equatable {
    /// Weight of a new measurement in the level (0…1).
    public var alpha: Double
    /// Weight of a new slope in the trend (0…1).
    public var beta: Double
    /// How much of the trend carries on each further second ahead (0…1; 1 is Holt's undamped
    /// trend).
    public var damping: Double
    private(set) var level: Double?
    /// Requests per second, per second.
    private(set) var trend = 0.0
    private var lastTime: Double?

    public init(alpha: Double = 0.3, beta: Double = 0.1, damping: Double = 0.97) {
        self.alpha = alpha
        self.beta = beta
        self.damping = damping
    }

    /// Takes the rate measured at `time` (seconds).
    public mutating func observe(_ rate: Double, at time: Double) {
        guard let level, let lastTime, time > lastTime else {
            self.level = rate
            self.lastTime = time
            return
        }
        let elapsed = time - lastTime
        let newLevel = alpha * rate + (1 - alpha) * (level + trend * elapsed)
        trend = beta * (newLevel - level) / elapsed + (1 - beta) * trend
        self.level = newLevel
        self.lastTime = time
    }

    /// The rate expected `ahead` seconds after the last measurement (never below 0); nil before
    /// any. With damping φ the trend counts φ + φ² + … + φ^ahead times instead of `ahead`.
    public func forecast(ahead: Double) -> Double? {
        guard let level else { return nil }
        let steps = damping >= 1 ? ahead : damping * (1 - pow(damping, ahead)) / (1 - damping)
        return max(0, level + trend * steps)
    }
}
