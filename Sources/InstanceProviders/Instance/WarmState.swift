/// How a warm-pool member is held out of service, ready to serve again quickly (AWS's warm pool
/// states, on libvirt).
public enum WarmState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Its virtual CPUs paused, its memory kept (`virDomainSuspend`): back in well under a second,
    /// for the RAM it holds. A process: SIGSTOP.
    case paused
    /// Its memory saved to disk and stopped (`virDomainManagedSave`): restored in about a second,
    /// for no RAM. A process has no such state: held as `paused`.
    case saved
}
