/// The `cpu` metric from CPU-time counters: how busy instances were between two samples, in
/// percent of their vCPUs, as HPA's CPU utilisation. Pure functions; reading the counters (libvirt's
/// `cpu.time` and `vcpu.current`, `/proc/<pid>/stat`) is the providers'.
public enum CPUUtilization {
    /// One instance's CPU time at a moment (seconds on a monotonic clock).
    public struct Sample: Sendable, Equatable {
        public var cpuTime: Duration
        public var vcpus: Int
        public var at: Double

        public init(cpuTime: Duration, vcpus: Int, at: Double) {
            self.cpuTime = cpuTime
            self.vcpus = vcpus
            self.at = at
        }
    }

    /// Percent of `to.vcpus` used since `from`; nil when the pair says nothing: no time passed,
    /// no vCPU, or the counter went back (the instance restarted).
    public static func percent(from: Sample, to: Sample) -> Double? {
        let elapsed = to.at - from.at
        let used = (to.cpuTime - from.cpuTime) / .seconds(1)
        guard elapsed > 0, to.vcpus > 0, used >= 0 else { return nil }
        return 100 * used / (elapsed * Double(to.vcpus))
    }

    /// The average over instances of their utilisation between their two samples, leaving out
    /// those in service for less than `warmup` seconds at `now` (HPA's initialization period:
    /// a booting VM's CPU says nothing about load); nil when no instance counts (no scaling on a
    /// missing signal).
    public static func average(
        _ instances: [(from: Sample, to: Sample, inServiceSince: Double)], now: Double, warmup: Double
    ) -> Double? {
        let values = instances.filter { now - $0.inServiceSince >= warmup }.compactMap { percent(from: $0.from, to: $0.to) }
        guard !values.isEmpty else { return nil }
        return values.reduce(0, +) / Double(values.count)
    }
}
