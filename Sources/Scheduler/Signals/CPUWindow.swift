import InstanceProviders

/// Each in-service instance's CPU-time readings over the sliding window, as ``LoadWindow`` keeps
/// the request counter's: the utilisation over the window is the first reading against the last,
/// so one reading a tick is enough for any window length.
public struct CPUWindow: Sendable {
    /// The window's length in seconds.
    public let seconds: Double
    private var readings: [String: [CPUUtilization.Sample]] = [:]

    public init(seconds: Double) {
        self.seconds = seconds
    }

    /// Adds the readings taken at `time` (monotonic seconds) of the instances in service; an
    /// instance not among them is forgotten (out of service, gone, or unread: its next reading
    /// starts afresh, so a boot or a pause never counts as load), and a counter that went back
    /// (the VM restarted) starts its window again.
    public mutating func add(_ times: [String: CPUTime], at time: Double) {
        readings = readings.filter { times[$0.key] != nil }
        for (name, reading) in times {
            var list = readings[name, default: []]
            if let last = list.last, reading.used < last.cpuTime { list.removeAll() }
            list.append(.init(cpuTime: reading.used, vcpus: reading.cpus, at: time))
            // One reading at or before the window's start, to measure the whole window.
            while list.count > 2, list[1].at <= time - seconds { list.removeFirst() }
            readings[name] = list
        }
    }

    /// Forgets everything (the provider could not be read: no stale figures).
    public mutating func reset() {
        readings.removeAll()
    }

    /// Each instance's utilisation (percent of its vCPUs) over the window, of the instances in
    /// `inServiceSince` (name → monotonic seconds since it has been in service), leaving out
    /// those in service for less than `warmup`, and those read over less than 2 s (or the window
    /// if shorter). ``CPUUtilization/average(_:total:target:)`` makes the group's figure of it.
    public func utilisation(of inServiceSince: [String: Double], now: Double, warmup: Double) -> [Double] {
        let spans = inServiceSince.compactMap { name, since -> (from: CPUUtilization.Sample, to: CPUUtilization.Sample, inServiceSince: Double)? in
            guard let list = readings[name], let first = list.first, let last = list.last, last.at - first.at >= min(2, seconds) else { return nil }
            return (first, last, since)
        }
        return CPUUtilization.percents(spans, now: now, warmup: warmup)
    }
}
