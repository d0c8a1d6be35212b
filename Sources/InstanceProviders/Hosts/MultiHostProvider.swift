import AutoscalerAPI
import Foundation
import Logging
import Synchronization

/// Instances on several libvirt hosts (`--uri` given more than once): one ``LibvirtProvider`` per
/// host, connected when first needed and reconnected with a back-off after it fails, new
/// instances placed by a ``Placement`` rule, names unique across the hosts, every instance
/// labelled with its host.
///
/// A host that does not answer keeps its instances, in state `unknown`, for `hostTimeout` (a
/// blip replaces nothing; their guests may still serve), then is left out of the listing (the
/// scheduler makes up for its instances elsewhere) until it answers again; see
/// ``HostReachability``. It is retried every few seconds.
public final class MultiHostProvider: InstanceProvider {
    /// One host: a label for logs and the API, and its provider's settings (URI, template, ...).
    public struct Host: Sendable {
        public var label: String
        public var configuration: LibvirtProvider.Configuration

        public init(label: String? = nil, configuration: LibvirtProvider.Configuration) {
            self.label = label ?? configuration.uri
            self.configuration = configuration
        }
    }

    public let hosts: [Host]
    public let placement: Placement
    let naming: InstanceNaming
    let logger: Logger

    private enum Connection {
        case connected(LibvirtProvider)
        case failed(retryAt: ContinuousClock.Instant, backoff: Duration, error: String)
    }
    private let connections = Mutex<[String: Connection]>([:])
    /// Names being created, and the host each goes to: taken on every host until their domain
    /// exists, and counted on their host by concurrent placements.
    private let reserved = Mutex<[String: String]>([:])
    /// Which host each instance was last seen on.
    private let owners = Mutex<[String: String]>([:])
    /// Instances this provider made, and where: counted on their host by placements whose listing
    /// was taken before they existed.
    private let made = Mutex<[String: String]>([:])
    /// Seconds a silent host keeps its instances (default 30).
    public let hostTimeout: Duration
    /// How long a listing of one host may take before the host counts as silent for that listing
    /// (default 5 s): one that hangs holds up neither the others nor the caller. Its call goes on
    /// until keepalive ends it, and the host is not asked again until it has.
    public let callTimeout: Duration
    private let listingsInFlight = Mutex<[String: (task: Task<[Instance]?, Never>, began: ContinuousClock.Instant)]>([:])
    private let reachability: Mutex<[String: HostReachability]>
    private let events = Mutex<[(host: String, event: HostReachability.Event)]>([])
    private static let epoch = ContinuousClock.now

    public var summary: String {
        "libvirt on \(hosts.count) hosts (\(hosts.map(\.label).joined(separator: ", "))), placement \(placement.rule.rawValue)"
    }

    public init(
        hosts: [Host], placement: Placement = Placement(), naming: InstanceNaming = InstanceNaming(), hostTimeout: Duration = .seconds(30),
        callTimeout: Duration = .seconds(5), logger: Logger
    ) throws {
        guard !hosts.isEmpty else { throw AutoscalerError.provider("no libvirt host given") }
        guard Set(hosts.map(\.label)).count == hosts.count else { throw AutoscalerError.provider("a libvirt host is given twice") }
        self.hosts = hosts
        self.placement = placement
        self.naming = naming
        self.logger = logger
        self.hostTimeout = hostTimeout
        self.callTimeout = callTimeout
        let timeout = Double(hostTimeout.components.seconds) + Double(hostTimeout.components.attoseconds) / 1e18
        self.reachability = Mutex(Dictionary(uniqueKeysWithValues: hosts.map { ($0.label, HostReachability(timeout: timeout)) }))
    }

    /// The host's provider; nil while it cannot be reached (retried after a back-off doubling
    /// from 1 s to 30 s).
    func provider(_ host: Host) async -> LibvirtProvider? {
        let now = ContinuousClock.now
        let current = connections.withLock { $0[host.label] }
        switch current {
        case .connected(let provider) where provider.isConnected:
            return provider
        case .failed(let retryAt, _, _) where now < retryAt:
            return nil
        default:
            break
        }
        do {
            let provider = try await LibvirtProvider(configuration: host.configuration, logger: logger)
            connections.withLock { $0[host.label] = .connected(provider) }
            if case .failed = current { logger.info("libvirt host reachable again", metadata: ["host": "\(host.label)"]) }
            return provider
        } catch {
            let backoff: Duration
            if case .failed(_, let last, _) = current { backoff = min(.seconds(30), last * 2) } else { backoff = .seconds(1) }
            connections.withLock { $0[host.label] = .failed(retryAt: now + backoff, backoff: backoff, error: "\(error)") }
            logger.warning("libvirt host unreachable", metadata: ["host": "\(host.label)", "error": "\(error)", "retry_in": "\(backoff)"])
            return nil
        }
    }

    /// Every reachable host's instances, each labelled with its host.
    public func instances() async throws -> [Instance] {
        let listed = try await listing()
        if listed.allSatisfy({ $0.instances == nil }) {
            throw AutoscalerError.hypervisorUnavailable(uri: hosts.map(\.label).joined(separator: ", "), reason: "no libvirt host answers")
        }
        return listed.flatMap(\.report)
    }

    /// Per host, in the order given: its instances as listed (nil when it cannot be reached), and
    /// what to report of it (the last listing, state unknown, while it is silent).
    private func listing(startedAfter: ContinuousClock.Instant? = nil) async throws -> [(host: Host, instances: [Instance]?, report: [Instance])] {
        let results = await withTaskGroup(of: (Int, [Instance]?).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask { (index, await self.list(host, startedAfter: startedAfter)) }
            }
            var byIndex: [Int: [Instance]?] = [:]
            for await (index, instances) in group { byIndex[index] = instances }
            return byIndex
        }
        let now = (ContinuousClock.now - Self.epoch)
        let seconds = Double(now.components.seconds) + Double(now.components.attoseconds) / 1e18
        let listed = hosts.enumerated().map { index, host in
            let instances = results[index] ?? nil
            let (report, event) = reachability.withLock { all in
                instances.map { all[host.label]!.listed($0, now: seconds) } ?? all[host.label]!.failed(now: seconds)
            }
            if let event { log(event, host: host.label) }
            return (host: host, instances: instances, report: report)
        }
        owners.withLock { owners in
            for (host, instances, _) in listed { for instance in instances ?? [] { owners[instance.name] = host.label } }
        }
        return listed
    }

    /// The host's instances, each labelled with it; nil when it cannot be reached or has not
    /// answered within ``callTimeout``.
    ///
    /// Callers at the same time share one listing; while one is out, nobody starts another. So a
    /// host that hangs has one call waiting on it (until keepalive ends it), not one per tick, and
    /// callers that come after its time limit has passed get nil at once.
    private func list(_ host: Host, startedAfter: ContinuousClock.Instant? = nil) async -> [Instance]? {
        for _ in 0..<2 {
            let now = ContinuousClock.now
            let (task, began) = listingsInFlight.withLock { inFlight in
                if let running = inFlight[host.label] { return running }
                let task = Task { () -> [Instance]? in
                    // Runs after the insertion below: it needs the same lock.
                    defer { self.listingsInFlight.withLock { _ = $0.removeValue(forKey: host.label) } }
                    return await self.listNow(host)
                }
                inFlight[host.label] = (task, now)
                return (task, now)
            }
            let remaining = callTimeout - (now - began)
            guard remaining > .zero else { return nil }
            guard let listed = await LateCall.value(within: remaining, { await task.value }) else {
                if began == now {
                    logger.warning("libvirt host does not answer", metadata: ["host": "\(host.label)", "waited": "\(callTimeout)"])
                }
                return nil
            }
            // A listing that began before the caller asked may miss what it just made: once
            // that one is over (it has left the table), a fresh one.
            if let startedAfter, began < startedAfter { continue }
            return listed
        }
        return nil
    }

    /// Connects if needed and lists the host; nil (and a reconnect next time) on failure.
    private func listNow(_ host: Host) async -> [Instance]? {
        guard let provider = await provider(host) else { return nil }
        do {
            return try await provider.instances().map { instance in
                var instance = instance
                instance.host = host.label
                return instance
            }
        } catch {
            connections.withLock { $0[host.label] = nil }  // reconnect next time
            logger.warning("cannot list instances", metadata: ["host": "\(host.label)", "error": "\(error)"])
            return nil
        }
    }

    /// Every host's domains' CPU times, asked in parallel; a host that does not answer within
    /// ``callTimeout`` adds nothing (its instances have no sample this tick), and a name on more
    /// than one host is left out rather than guessed.
    public func cpuTimes() async throws -> [String: CPUTime] {
        let perHost = await withTaskGroup(of: [String: CPUTime]?.self) { group in
            for host in hosts {
                group.addTask {
                    guard let provider = await self.provider(host) else { return nil }
                    return await LateCall.value(within: self.callTimeout) { try? await provider.cpuTimes() } ?? nil
                }
            }
            var all: [[String: CPUTime]] = []
            for await times in group { if let times { all.append(times) } }
            return all
        }
        if perHost.isEmpty {
            throw AutoscalerError.hypervisorUnavailable(uri: hosts.map(\.label).joined(separator: ", "), reason: "no libvirt host gave its CPU stats")
        }
        var merged: [String: CPUTime] = [:]
        var repeated: Set<String> = []
        for times in perHost {
            for (name, time) in times where merged.updateValue(time, forKey: name) != nil { repeated.insert(name) }
        }
        for name in repeated { merged[name] = nil }
        return merged
    }

    /// The provider of the host the named instance is on, from a fresh listing of every host:
    /// never a cached guess, since a delete sent to the wrong host would remove another domain of
    /// the same name. A name on more than one host (a host back with names reused while it was
    /// away) is refused rather than guessed.
    private func owner(of name: String) async throws -> LibvirtProvider {
        let holders = try await listing(startedAfter: .now).filter { $0.instances?.contains(where: { $0.name == name }) == true }
        guard holders.count <= 1 else {
            throw AutoscalerError.provider("\(name) exists on several hosts (\(holders.map(\.host.label).joined(separator: ", "))); remove one by hand")
        }
        guard let holder = holders.first, let provider = await provider(holder.host) else { throw AutoscalerError.notFound(name) }
        return provider
    }

    public func instance(named name: String) async throws -> Instance {
        let provider = try await owner(of: name)
        var instance = try await provider.instance(named: name)
        instance.host = owners.withLock { $0[name] }
        return instance
    }

    /// Places the new instance by the rule, on a host that answers and fits it.
    public func create(name: String?, warm: WarmState?) async throws -> Instance {
        if let name, !InstanceNaming.isValid(name) { throw AutoscalerError.invalidName(name) }
        let listed = try await listing()
        var loads: [HostLoad] = []
        for (host, instances, _) in listed {
            var load = HostLoad(name: host.label, instances: instances?.filter { $0.origin == .created }.count ?? 0, reachable: instances != nil)
            if instances != nil, let provider = await provider(host), let resources = try? await provider.resources() {
                load.freeMemoryKiB = resources.freeKiB
                load.templateMemoryKiB = resources.templateKiB
            }
            loads.append(load)
        }
        // Names listed, last listed on a host that does not answer now, being created, or made
        // since the listing (read under the reservation lock below).
        let listedNames = Set(listed.flatMap { $0.instances ?? [] }.map(\.name))
            .union(reachability.withLock { $0.values.flatMap { $0.lastListed.map(\.name) } })
        // The host and the name in one step, with the creates in progress counted on their hosts:
        // a step of several placed at once spreads like one placed after another.
        let (chosen, label) = try reserved.withLock { reserved -> (String, String) in
            let taken = listedNames.union(owners.withLock { Set($0.keys) })
            var counted = loads
            let madeHere = made.withLock { $0 }
            for index in counted.indices {
                let label = counted[index].name
                let listedHere = Set(listed.first { $0.host.label == label }?.instances?.filter { $0.origin == .created }.map(\.name) ?? [])
                let known = listedHere.union(madeHere.filter { $0.value == label }.keys)
                counted[index].instances = known.count + reserved.values.filter { $0 == label }.count
            }
            guard let label = placement.hostForNewInstance(counted) else {
                throw AutoscalerError.provider(
                    "no libvirt host can take a new instance (\(counted.map { "\($0.name): \($0.reachable ? "\($0.instances) of ours" : "unreachable")" }.joined(separator: ", ")))")
            }
            let chosen = name ?? naming.nextName(notIn: taken.union(reserved.keys))
            if taken.contains(chosen) || reserved[chosen] != nil { throw AutoscalerError.nameTaken(chosen) }
            reserved[chosen] = label
            return (chosen, label)
        }
        defer { reserved.withLock { _ = $0.removeValue(forKey: chosen) } }
        guard let host = hosts.first(where: { $0.label == label }), let provider = await provider(host) else {
            throw AutoscalerError.provider("libvirt host \(label) stopped answering")
        }
        var instance = try await provider.create(name: chosen, warm: warm)
        instance.host = label
        owners.withLock { $0[chosen] = label }  // before the reservation ends
        made.withLock { $0[chosen] = label }
        logger.info("placed", metadata: ["instance": "\(chosen)", "host": "\(label)", "rule": "\(placement.rule.rawValue)"])
        return instance
    }

    /// What happened to the hosts since the last call (silent, lost, back), oldest first; the
    /// scheduler records them as events.
    public func takeEvents() -> [(host: String, event: HostReachability.Event)] {
        events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }

    private func log(_ event: HostReachability.Event, host: String) {
        events.withLock { $0.append((host, event)) }
        switch event {
        case .silent(let count):
            logger.warning("libvirt host silent: its \(count) instances are kept for \(hostTimeout)", metadata: ["host": "\(host)"])
        case .lost(let count, let after):
            logger.error("libvirt host lost after \(Int(after)) s: its \(count) instances are given up", metadata: ["host": "\(host)"])
        case .back(let after, let wasLost):
            logger.notice("libvirt host back after \(Int(after)) s\(wasLost ? "; its instances are listed again" : "")", metadata: ["host": "\(host)"])
        }
    }

    public func waitUntilServing(_ instance: Instance, timeout: Duration) async throws {
        try await owner(of: instance.name).waitUntilServing(instance, timeout: timeout)
    }

    public func stop(name: String, timeout: Duration) async throws {
        try await owner(of: name).stop(name: name, timeout: timeout)
    }

    public func delete(name: String) async throws {
        try await owner(of: name).delete(name: name)
        owners.withLock { _ = $0.removeValue(forKey: name) }
        made.withLock { _ = $0.removeValue(forKey: name) }
    }

    public func hold(name: String, as state: WarmState) async throws {
        try await owner(of: name).hold(name: name, as: state)
    }

    public func release(name: String) async throws -> Instance {
        var instance = try await owner(of: name).release(name: name)
        instance.host = owners.withLock { $0[name] }
        return instance
    }
}
