/// A gauge sampled once a tick (requests in flight per instance), averaged over the sliding
/// window: a single read of a gauge is one instant, and with a few requests at a time it jumps
/// between 0 and 2 from one tick to the next.
public struct GaugeWindow: Sendable {
    /// The window's length in seconds.
    public let seconds: Double
    private var readings: [(time: Double, value: Double)] = []

    public init(seconds: Double) {
        self.seconds = seconds
    }

    /// Adds the value read at `time` (monotonic seconds).
    public mutating func add(_ value: Double, at time: Double) {
        readings.append((time, value))
        readings.removeAll { $0.time <= time - seconds }
    }

    /// Forgets everything (the source could not be read: no stale figures).
    public mutating func reset() {
        readings.removeAll()
    }

    /// The mean of the values in the window; nil when there is none.
    public var average: Double? {
        readings.isEmpty ? nil : readings.map(\.value).reduce(0, +) / Double(readings.count)
    }
}
