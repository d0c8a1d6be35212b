/// A short-term forecast of the request rate: Holt's linear trend (double exponential smoothing)
/// over the rate measured each tick. It knows only what it was given, so a forecast at time t
/// uses nothing after t.
///
/// Why this model: it needs no history to start (a seasonal model needs at least a season, a
/// day for the traces at hand), follows a ramp with its slope (what matters when a new instance
/// takes 30 s), and costs two multiplications a tick. The weights (α 0.3, β 0.1) were chosen on
/// the four real traces of `scripts/bench/simulate-traces.sh`: a faster trend (β 0.2) chased
/// bursts and cost up to 59 % more instance-hours; a slower one (β 0.05) missed half the gain.
public struct RateForecaster: Sendable, Equatable {
    /// Weight of a new measurement in the level (0…1).
    public var alpha: Double
    /// Weight of a new slope in the trend (0…1).
    public var beta: Double
    private(set) var level: Double?
    /// Requests per second, per second.
    private(set) var trend = 0.0
    private var lastTime: Double?

    public init(alpha: Double = 0.3, beta: Double = 0.1) {
        self.alpha = alpha
        self.beta = beta
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
    /// any.
    public func forecast(ahead: Double) -> Double? {
        level.map { max(0, $0 + trend * ahead) }
    }
}
