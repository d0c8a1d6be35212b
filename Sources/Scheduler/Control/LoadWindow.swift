import AutoscalerAPI

/// The balancer's request counter over a sliding window: two reads of a monotonic counter give
/// the requests between them, so a reading each second is enough for any window length.
public struct LoadWindow: Sendable {
    /// The window's length in seconds (the original's 10 s).
    public let seconds: Double
    private var readings: [(time: Double, requests: Int, latency: LatencyBuckets?)] = []

    public init(seconds: Double) {
        self.seconds = seconds
    }

    /// Adds a reading taken at `time` (monotonic seconds); a counter that went backwards (the
    /// balancer restarted) starts the window again.
    public mutating func add(time: Double, requestsTotal: Int, latency: LatencyBuckets? = nil) {
        if let last = readings.last, requestsTotal < last.requests { readings.removeAll() }
        readings.append((time, requestsTotal, latency))
        // Keep one reading at or before the window's start, to measure the whole window.
        while readings.count > 2, readings[1].time <= time - seconds { readings.removeFirst() }
    }

    /// Forgets everything (the balancer could not be read: no stale figures).
    public mutating func reset() {
        readings.removeAll()
    }

    /// Requests in the window, scaled to the full window when less has been seen (from 2 s on);
    /// nil before that.
    public var requestsInWindow: Double? {
        guard let first = readings.first, let last = readings.last else { return nil }
        let span = last.time - first.time
        guard span >= min(2, seconds) else { return nil }
        let requests = Double(last.requests - first.requests)
        return requests * seconds / span
    }

    /// Requests per second over the window.
    public var rate: Double? {
        requestsInWindow.map { $0 / seconds }
    }

    /// Requests in flight through the balancer on average over the window, by Little's law: the
    /// time requests spent in it (the growth of the histogram's sum of durations) over the time
    /// that passed. Exact where sampling the in-flight gauge once a tick is not: requests that
    /// arrive in step with the ticks are never seen by a sample. nil without a histogram or before
    /// the window spans 2 s.
    public var concurrency: Double? {
        guard let first = readings.first, let last = readings.last, let from = first.latency, let to = last.latency else { return nil }
        let span = last.time - first.time
        guard span >= min(2, seconds), to.sumSeconds >= from.sumSeconds else { return nil }
        return (to.sumSeconds - from.sumSeconds) / span
    }

    /// Whether the balancer's last reading came with a latency histogram (the NIO balancer's
    /// stats have one, HAProxy's Runtime API none).
    public var hasHistogram: Bool {
        readings.last?.latency != nil
    }

    /// Latency quantile `q` (seconds) over the window, from the balancer's histogram.
    public func latency(_ q: Double) -> Double? {
        guard let first = readings.first?.latency, let last = readings.last?.latency else { return nil }
        return last.quantile(q, since: first)
    }
}
