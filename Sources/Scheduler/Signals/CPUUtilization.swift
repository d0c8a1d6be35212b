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

    /// Each instance's utilisation between its two samples, leaving out those in service for
    /// less than `warmup` seconds at `now` (HPA's initialization period: a booting VM's CPU says
    /// nothing about load) and pairs that say nothing.
    public static func percents(_ instances: [(from: Sample, to: Sample, inServiceSince: Double)], now: Double, warmup: Double) -> [Double] {
        instances.filter { now - $0.inServiceSince >= warmup }.compactMap { percent(from: $0.from, to: $0.to) }
    }

    /// The utilisation to decide on for a group of `total` instances in service when only
    /// `counted` of them gave a value, averaging `average`: the HPA's rule for missing metrics.
    /// When the average is above `target` the others count as 0 % (a scale-out must not lean on
    /// what it cannot see), when below as 100 % (nor a scale-in); if that turns the direction,
    /// `target` (no change).
    public static func adjusted(average: Double, counted: Int, total: Int, target: Double) -> Double {
        let missing = Double(max(0, total - counted))
        guard missing > 0, counted > 0 else { return average }
        let all = Double(counted) + missing
        let sum = average * Double(counted)
        if average > target {
            let adjusted = sum / all
            return adjusted > target ? adjusted : target
        }
        if average < target {
            let adjusted = (sum + 100 * missing) / all
            return adjusted < target ? adjusted : target
        }
        return average
    }
}
