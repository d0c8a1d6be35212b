/// The CPU time a running instance has used since it started, and how many CPUs it has: what the
/// scheduler's `cpu` metric turns into a utilisation between two readings.
public struct CPUTime: Sendable, Equatable {
    /// User and system time, all CPUs together.
    public var used: Duration
    /// The CPUs it may use: a VM's online vCPUs; 1 for a process instance (the unit its
    /// utilisation is counted in: 100 % is one CPU busy all the time).
    public var cpus: Int

    public init(used: Duration, cpus: Int) {
        self.used = used
        self.cpus = cpus
    }
}
