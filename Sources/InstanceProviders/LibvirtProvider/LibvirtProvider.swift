import AutoscalerAPI
import AutoscalerClient
import Foundation
import BlockingIO
import Libvirt
import Logging
import Synchronization

/// Instances that are libvirt domains, cloned from a template domain like `virt-clone` does.
///
/// Every libvirt call runs on a ``BlockingExecutor``. Clones are defined one at a time within a
/// process so that two of them never pick the same name or port; they start in parallel.
public final class LibvirtProvider: InstanceProvider {
    public let configuration: Configuration
    private let liveConnection: Mutex<LibvirtConnection>
    /// libvirt's test driver: its guests have made-up addresses (192.168.x) and serve nothing.
    let isSimulated: Bool
    let executor: BlockingExecutor
    let logger: Logger
    let probe: HTTPProbe
    let createLock = Mutex(())

    public var summary: String { "libvirt \(configuration.uri) (template \(configuration.template))" }

    /// Connects to libvirt; throws ``AutoscalerError/hypervisorUnavailable(uri:reason:)`` when it cannot.
    public init(
        configuration: Configuration = Configuration(), executor: BlockingExecutor = .shared,
        probe: HTTPProbe = HTTPProbe(), logger: Logger = Logger(label: "autoscaler.libvirt")
    ) async throws {
        self.configuration = configuration
        self.executor = executor
        self.probe = probe
        self.logger = logger
        let uri = configuration.uri
        do {
            let connection = try await executor.run { try Self.open(configuration) }
            self.liveConnection = Mutex(connection)
            self.isSimulated = (try? await executor.run { try connection.canonicalURI() })?.hasPrefix("test:") ?? uri.hasPrefix("test:")
        } catch let error as LibvirtError {
            throw AutoscalerError.hypervisorUnavailable(uri: uri, reason: error.message)
        }
        logger.debug("connected to libvirt", metadata: ["uri": "\(uri)", "library": "\(Libvirt.libraryVersion)"])
    }

    /// Opens a connection, with keepalive when configured.
    static func open(_ configuration: Configuration) throws(LibvirtError) -> LibvirtConnection {
        let (interval, count) = (configuration.keepAliveInterval, configuration.keepAliveCount)
        if interval > 0 { Libvirt.startEventLoop() }
        let connection = try LibvirtConnection(uri: configuration.uri)
        if interval > 0 { connection.setKeepAlive(interval: interval, count: count) }
        return connection
    }

    /// The connection, opened again when the daemon went away and is back (a libvirtd restart or
    /// upgrade): without this a scheduler held forever on a closed socket. Blocking: use it on
    /// the executor only. While the daemon is down it is the dead connection, whose calls fail.
    var connection: LibvirtConnection {
        liveConnection.withLock { current in
            guard !current.isAlive else { return current }
            guard let fresh = try? Self.open(configuration) else { return current }
            logger.info("reconnected to libvirt", metadata: ["uri": "\(configuration.uri)"])
            current = fresh
            return fresh
        }
    }

    /// Whether the connection still works (the daemon did not go away); does not reconnect.
    public var isConnected: Bool { liveConnection.withLock { $0.isAlive } }

    /// The host's free memory and the template's, in KiB, for placement; nil where libvirt does
    /// not say (the test driver knows no free memory).
    public func resources() async throws -> (freeKiB: UInt64?, templateKiB: UInt64?) {
        try await executor.run { [connection, configuration] in
            let free = (try? connection.freeMemory()).flatMap { $0 > 0 ? $0 / 1024 : nil }
            let template = try connection.domainIfExists(named: configuration.template).flatMap { try? $0.maxMemoryKiB() }
            return (free, template)
        }
    }

    /// Whether the template domain exists (and so this provider can scale).
    public func templateExists() async throws -> Bool {
        try await executor.run { [connection, configuration] in
            try connection.domainIfExists(named: configuration.template) != nil
        }
    }

    public func instances() async throws -> [Instance] {
        try await executor.run { [self] in
            try connection.domains().compactMap { domain in
                do {
                    return try instance(of: domain)
                } catch let error as LibvirtError where error.code == .noDomain {
                    return nil  // deleted between the listing and the look at it
                }
            }
        }
    }

    public func cpuTimes() async throws -> [String: CPUTime] {
        try await executor.run { [self] in
            Dictionary(
                try connection.cpuStats().map { ($0.name, CPUTime(used: .nanoseconds(Int64(clamping: $0.cpuTime)), cpus: max(1, $0.vcpus))) },
                uniquingKeysWith: { first, _ in first })
        }
    }

    public func instance(named name: String) async throws -> Instance {
        try await executor.run { [self] in
            guard let domain = try connection.domainIfExists(named: name) else { throw AutoscalerError.notFound(name) }
            guard let instance = try instance(of: domain) else { throw AutoscalerError.notManaged(name) }
            return instance
        }
    }

    /// The instance a domain is, or nil when it is neither ours nor adopted.
    func instance(of domain: Domain) throws -> Instance? {
        let name = domain.name
        let metadata: InstanceMetadata
        if let text = try domain.metadata(uri: InstanceMetadata.namespace), let parsed = InstanceMetadata(xml: text) {
            metadata = parsed
        } else if configuration.adopt.contains(name) {
            metadata = InstanceMetadata(origin: .found)
        } else {
            return nil
        }
        let state = try domain.state()
        var endpoint = metadata.endpoint
        if endpoint == nil, state.isActive {
            endpoint = addressEndpoint(of: domain)
        }
        return Instance(
            name: name, endpoint: endpoint, state: InstanceState(state), origin: metadata.origin,
            createdAt: metadata.createdAt, warm: metadata.warm, held: metadata.warm != nil && metadata.held)
    }

    /// An endpoint from the guest's IPv4 address (DHCP lease, then guest agent), for bridged or NAT
    /// networks where no port forward exists.
    ///
    /// None on the test driver: its made-up addresses are private ones that something else may
    /// answer on, and nothing may be sent there.
    func addressEndpoint(of domain: Domain) -> Endpoint? {
        if isSimulated { return nil }
        for source in [InterfaceAddressSource.lease, .agent] {
            if let address = try? domain.interfaceAddresses(source: source).first(where: { !$0.isIPv6 && $0.address != "127.0.0.1" }) {
                return Endpoint(host: address.address, port: configuration.guestPort)
            }
        }
        return nil
    }

    public func create(name: String?, warm: WarmState?) async throws -> Instance {
        if let name, !InstanceNaming.isValid(name) { throw AutoscalerError.invalidName(name) }
        return try await executor.run { [self] in
            let clone = try createLock.withLock { _ in try cloneAndDefine(name: name, warm: warm) }
            return try start(clone)
        }
    }

    public func waitUntilServing(_ instance: Instance, timeout: Duration) async throws {
        if isSimulated {
            // No endpoint to probe (the test driver's made-up addresses must never be contacted):
            // a running domain is as far as serving goes.
            let current = try await self.instance(named: instance.name)
            guard current.state == .running else { throw AutoscalerError.provider("\(current.name) is \(current.state.rawValue), not running") }
            logger.debug("simulated hypervisor: running, no endpoint to wait for", metadata: ["instance": "\(instance.name)"])
            return
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var instance = instance
        if instance.endpoint == nil { instance = try await waitForAddress(instance, until: deadline) }
        try await pollUntilServing(instance, timeout: deadline - clock.now, probe: probe) {
            AutoscalerError.provider("\($0.name) is \($0.state.rawValue), not running")
        }
    }

    /// Waits for a guest on a network to get an address (its DHCP lease, or the guest agent's
    /// answer), so that a guest which never gets one fails with that reason rather than a bare
    /// timeout; logs how long the lease took.
    func waitForAddress(_ instance: Instance, until deadline: ContinuousClock.Instant) async throws -> Instance {
        let clock = ContinuousClock()
        let began = clock.now
        while clock.now < deadline {
            let current = try await self.instance(named: instance.name)
            guard current.state == .running else {
                throw AutoscalerError.provider("\(current.name) is \(current.state.rawValue), not running")
            }
            if let endpoint = current.endpoint {
                logger.info(
                    "address from the network", metadata: ["instance": "\(instance.name)", "endpoint": "\(endpoint)", "lease_ms": "\((clock.now - began).milliseconds)"])
                return current
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw AutoscalerError.provider(
            "\(instance.name) got no address (no DHCP lease on its network, no guest agent answer) in \(Int((deadline - began).seconds.rounded(.up))) s")
    }

    public func stop(name: String, timeout: Duration) async throws {
        let domain = try await executor.run { [self] in
            let domain = try managedDomain(named: name)
            if domain.isActive { try domain.shutdown() }
            return domain
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await executor.run({ !domain.isActive }) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        logger.info("guest did not shut down in time, destroying it", metadata: ["instance": "\(name)"])
        try await executor.run { if domain.isActive { try domain.destroy() } }
    }

    public func delete(name: String) async throws {
        let onNetwork = try await executor.run { [self] in
            let domain = try managedDomain(named: name)
            let forwarded = try createdMetadata(of: domain).port != nil
            // Only a running guest can take the power button (a paused warm-pool member cannot).
            return try domain.state() == .running && !forwarded
        }
        if onNetwork && configuration.shutdownGrace > .zero {
            // A clean stop lets the guest release its DHCP lease; stop destroys it after the grace.
            // Best effort: the destroy below happens either way.
            let clock = ContinuousClock()
            let began = clock.now
            do {
                try await stop(name: name, timeout: configuration.shutdownGrace)
                logger.debug("stopped before delete", metadata: ["instance": "\(name)", "ms": "\((clock.now - began).milliseconds)"])
            } catch {
                logger.info("clean stop before delete failed, destroying", metadata: ["instance": "\(name)", "error": "\(error)"])
            }
        }
        try await executor.run { [self] in
            let domain = try managedDomain(named: name)
            let metadata = try createdMetadata(of: domain)
            if domain.isActive {
                do {
                    try domain.destroy()
                } catch where (error as? LibvirtError)?.code == .operationInvalid {
                    // It stopped between the check and the call.
                }
            }
            try domain.undefine()
            removeVolumes(metadata.volumes)
            logger.info("deleted", metadata: ["instance": "\(name)", "volumes": "\(metadata.volumes.count)"])
        }
    }

    /// The domain named `name` if the autoscaler created it; the only domains it stops or deletes.
    func managedDomain(named name: String) throws -> Domain {
        guard let domain = try connection.domainIfExists(named: name) else { throw AutoscalerError.notFound(name) }
        _ = try createdMetadata(of: domain)
        return domain
    }

    func createdMetadata(of domain: Domain) throws -> InstanceMetadata {
        guard let text = try domain.metadata(uri: InstanceMetadata.namespace), let metadata = InstanceMetadata(xml: text),
            metadata.origin == .created
        else { throw AutoscalerError.notManaged(domain.name) }
        return metadata
    }

    /// Deletes volumes by path; one that is already gone is not an error.
    func removeVolumes(_ paths: [String]) {
        for path in paths {
            do {
                try connection.storageVolume(path: path).delete()
            } catch {
                if error.code == .noStorageVolume { continue }
                logger.warning("could not delete volume", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }
}

extension InstanceState {
    init(_ state: DomainState) {
        switch state {
        case .running, .blocked, .shuttingDown: self = .running
        case .paused, .pmSuspended: self = .paused
        case .shutOff: self = .stopped
        case .crashed: self = .crashed
        case .noState: self = .unknown
        }
    }
}
