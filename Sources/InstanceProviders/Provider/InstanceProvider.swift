import AutoscalerAPI
import AutoscalerClient
/// Makes, lists and removes web server instances: libvirt VMs or local processes.
///
/// Implementations are safe to call from several tasks; blocking work runs off the cooperative pool.
public protocol InstanceProvider: Sendable {
    /// What it is, for logs: `libvirt qemu:///system` or `process /path/to/state`.
    var summary: String { get }

    /// Every instance this provider manages or found (the libvirt provider: domains with our metadata).
    func instances() async throws -> [Instance]

    /// The instance named `name`: ``AutoscalerError/notFound(_:)`` when nothing has that name,
    /// ``AutoscalerError/notManaged(_:)`` when something does but it is not an instance of ours.
    func instance(named name: String) async throws -> Instance

    /// Makes and starts a new instance; `name` nil picks the next free `web_vm<N>`; `warm` marks
    /// it as a warm-pool member from the start (so that nothing registers it while it boots, and
    /// a restarted scheduler knows it for what it is), to be held by ``hold(name:as:)``.
    ///
    /// Returns once it is started, not once it serves; see ``waitUntilServing(_:timeout:)``.
    /// A failure part-way removes what was made.
    func create(name: String?, warm: WarmState?) async throws -> Instance

    /// Waits until the instance answers HTTP; throws ``AutoscalerError/timeout(instance:seconds:)``.
    func waitUntilServing(_ instance: Instance, timeout: Duration) async throws

    /// Stops an instance gracefully (guest shutdown or SIGTERM), forcing it after `timeout`.
    func stop(name: String, timeout: Duration) async throws

    /// Takes a serving instance the autoscaler created out of service into the warm pool: marks
    /// it as a member (the mark survives restarts) and holds it as `state`. It must not be
    /// registered with a balancer.
    func hold(name: String, as state: WarmState) async throws

    /// Brings a warm-pool member back: resumes or restores it, sets its clock where the guest
    /// lets it, clears the mark. Returns it running, its endpoint read anew; whether it serves is
    /// for ``waitUntilServing(_:timeout:)`` to say.
    func release(name: String) async throws -> Instance

    /// Stops and removes an instance the autoscaler created, with everything made for it.
    ///
    /// Throws ``AutoscalerError/notManaged(_:)`` for a found instance.
    func delete(name: String) async throws

    /// The CPU time of every running instance, by name, read in one go (one libvirt call for all
    /// domains, `/proc/<pid>/stat` for processes). Instances it cannot read are left out: the
    /// scheduler then has no sample of them and holds rather than guess.
    func cpuTimes() async throws -> [String: CPUTime]
}

extension InstanceProvider {
    /// Makes and starts a new instance for the group (not a warm-pool member).
    public func create(name: String?) async throws -> Instance {
        try await create(name: name, warm: nil)
    }

    /// Creates an instance and waits until it serves; on any failure the new instance is deleted
    /// again, so nothing is left behind.
    public func createServing(name: String?, timeout: Duration, warm: WarmState? = nil) async throws -> Instance {
        let instance = try await create(name: name, warm: warm)
        do {
            try await waitUntilServing(instance, timeout: timeout)
            return try await self.instance(named: instance.name)
        } catch {
            try? await delete(name: instance.name)
            throw error
        }
    }

    /// Asks the instance for `probe.path` until it answers, re-reading its state (and endpoint, which
    /// a DHCP lease may give only later) between tries; fails at once when it stops running.
    ///
    /// The loop behind both providers' ``waitUntilServing(_:timeout:)``.
    func pollUntilServing(
        _ instance: Instance, timeout: Duration, probe: HTTPProbe, stopped: (Instance) -> AutoscalerError
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var endpoint = instance.endpoint
        while clock.now < deadline {
            let current = try await self.instance(named: instance.name)
            guard current.state == .running else { throw stopped(current) }
            endpoint = endpoint ?? current.endpoint
            if let endpoint, await probe.check(endpoint) { return }
            try await Task.sleep(for: probe.interval)
        }
        throw AutoscalerError.timeout(instance: instance.name, seconds: Int(timeout.seconds.rounded(.up)))
    }

    /// The listed instance named `name`, or ``AutoscalerError/notFound(_:)``.
    public func instance(named name: String) async throws -> Instance {
        guard let instance = try await instances().first(where: { $0.name == name }) else {
            throw AutoscalerError.notFound(name)
        }
        return instance
    }

    /// The newest instance the autoscaler created (the one `scale-down` removes by default), not
    /// counting warm-pool members.
    public func newestCreatedInstance() async throws -> Instance {
        let created = try await instances().filter { $0.origin == .created && $0.warm == nil }
        guard let newest = created.max(by: { $0.age < $1.age }) else { throw AutoscalerError.noManagedInstance }
        return newest
    }
}
