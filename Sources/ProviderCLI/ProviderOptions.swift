import ArgumentParser
import AutoscalerAPI
import AutoscalerCLI
import Foundation
import InstanceProviders
import Libvirt
import Logging

/// The options that pick and configure an instance provider, shared by the commands.
public struct ProviderOptions: ParsableArguments, Sendable {
    @Option(help: "Instances to manage: auto (libvirt when the URI connects and the template exists, else process), libvirt or process.")
    public var provider: ProviderKind = .auto

    @Option(name: .customLong("uri"), help: "libvirt connection URI; give it once per host for several hosts (default qemu:///system).")
    public var uris: [String] = []

    @Option(help: "How new instances are placed over several hosts: spread (fewest of ours, the default), pack (fill each to --host-max) or memory (most free).")
    public var placement: PlacementRule?

    @Option(help: "Most of our instances on one host (default: no limit).")
    public var hostMax: Int?

    @Option(help: "Seconds a host that stopped answering keeps its instances before they count as lost (default 30).")
    public var hostTimeout: Double?

    /// The first (or only) libvirt URI.
    public var uri: String { uris.first ?? LibvirtProvider.Configuration().uri }

    @Option(help: "Template domain that new VMs are cloned from (must be shut off).")
    public var template = LibvirtProvider.Configuration().template

    @Option(help: "How a clone gets its disks: overlay (qcow2 on the template's disk) or copy.")
    public var disk: LibvirtProvider.DiskMode = .overlay

    @Option(help: "Seconds a delete waits for a VM on a network (no loopback forward) to shut down, releasing its DHCP lease, before destroying it.")
    public var shutdownGrace: Double = 10

    @Option(help: "Prefix of new instance names (<prefix><N>).")
    public var namePrefix = InstanceNaming().prefix

    @Option(help: "With an HAProxy balancer (haproxy:/path/to/admin.sock or haproxy://HOST:PORT), the backend instances join.")
    public var haproxyBackend = "web"

    @Option(help: "State directory of the process provider (default: $AUTOSCALER_STATE_DIR, $XDG_STATE_HOME/autoscaler or ~/.local/state/autoscaler).")
    public var stateDir: String?

    @Option(help: "The webserver executable the process provider starts (default: next to this one).")
    public var webserverPath: String?

    public init() {}

    public func validate() throws {
        if let hostMax, hostMax < 1 { throw ValidationError("--host-max must be ≥ 1") }
        if let hostTimeout { try Self.checkHostTimeout(hostTimeout) }
        guard shutdownGrace >= 0, shutdownGrace <= 3600 else { throw ValidationError("--shutdown-grace must be 0 to 3600 seconds") }
        if Set(uris).count != uris.count { throw ValidationError("a --uri is given twice") }
        if uris.count > 1 && provider == .process { throw ValidationError("several --uri need the libvirt provider") }
    }

    public var libvirtConfiguration: LibvirtProvider.Configuration {
        LibvirtProvider.Configuration(
            uri: uri, template: template, naming: InstanceNaming(prefix: namePrefix), diskMode: disk,
            shutdownGrace: .milliseconds(Int64(shutdownGrace * 1000)))
    }

    public var processConfiguration: ProcessProvider.Configuration {
        var configuration = ProcessProvider.Configuration(naming: InstanceNaming(prefix: namePrefix))
        if let stateDir { configuration.stateDirectory = stateDir }
        if let webserverPath { configuration.webserverPath = webserverPath }
        return configuration
    }

    /// The provider part of a `--config` file (the scheduler's): the hosts, each a URI or
    /// `{"uri": ..., "template": ..., "label": ...}` (a host may have its own template), and the
    /// placement settings. Flags win: `--uri` replaces the file's hosts.
    public struct File: Decodable, Sendable {
        public var hosts: [HostEntry]?
        public var placement: PlacementRule?
        public var hostMax: Int?
        public var hostTimeout: Double?

        public init() {}

        /// One host of the file.
        public struct HostEntry: Decodable, Sendable {
            public var uri: String
            public var template: String?
            public var label: String?

            private enum CodingKeys: String, CodingKey { case uri, template, label }

            public init(from decoder: any Decoder) throws {
                if let uri = try? decoder.singleValueContainer().decode(String.self) {
                    self.uri = uri
                    return
                }
                let container = try decoder.container(keyedBy: CodingKeys.self)
                uri = try container.decode(String.self, forKey: .uri)
                template = try container.decodeIfPresent(String.self, forKey: .template)
                label = try container.decodeIfPresent(String.self, forKey: .label)
            }
        }
    }

    static func checkHostTimeout(_ seconds: Double) throws {
        guard seconds >= 0, seconds <= 86_400 else { throw ValidationError("--host-timeout must be 0 to 86400 seconds") }
    }

    /// The libvirt hosts: one per `--uri`, else the file's, else the default URI; each with
    /// `--template` unless the file gives it its own.
    func hosts(file: File) throws -> [MultiHostProvider.Host] {
        if !uris.isEmpty || file.hosts == nil {
            return (uris.isEmpty ? [uri] : uris).map { uri in
                var configuration = libvirtConfiguration
                configuration.uri = uri
                return MultiHostProvider.Host(configuration: configuration)
            }
        }
        let entries = file.hosts ?? []
        guard !entries.isEmpty else { throw ValidationError("the config file's hosts list is empty") }
        guard Set(entries.map(\.uri)).count == entries.count else { throw ValidationError("a host is given twice in the config file") }
        if entries.count > 1 && provider == .process { throw ValidationError("several hosts need the libvirt provider") }
        return entries.map { entry in
            var configuration = libvirtConfiguration
            configuration.uri = entry.uri
            if let template = entry.template { configuration.template = template }
            return MultiHostProvider.Host(label: entry.label, configuration: configuration)
        }
    }

    /// Checks what only the config file's merge can tell: its hosts, host timeout and maximum.
    public func validate(file: File) throws {
        _ = try hosts(file: file)
        try Self.checkHostTimeout(hostTimeout ?? file.hostTimeout ?? 30)
        if let maximum = hostMax ?? file.hostMax, maximum < 1 { throw ValidationError("hostMax must be ≥ 1") }
    }

    /// Connects the chosen provider; several hosts (`--uri` more than once, or the config file's
    /// `hosts`) make a ``MultiHostProvider`` over them.
    public func makeProvider(logger: Logger, file: File = File()) async throws -> any InstanceProvider {
        try validate(file: file)
        let hosts = try hosts(file: file)
        if hosts.count > 1 {
            let timeout = hostTimeout ?? file.hostTimeout ?? 30
            let maximum = hostMax ?? file.hostMax
            return try MultiHostProvider(
                hosts: hosts, placement: Placement(rule: placement ?? file.placement ?? .spread, hostMaximum: maximum),
                naming: InstanceNaming(prefix: namePrefix), hostTimeout: .milliseconds(Int64(timeout * 1000)), logger: logger)
        }
        return try await ProviderFactory.make(provider, libvirt: hosts[0].configuration, process: processConfiguration, logger: logger)
    }

    /// The provider, with the balancer at `balancerURL` (if any) kept in step; the admin token is
    /// `token`, else `$AUTOSCALER_TOKEN`. The URL is checked before the provider connects.
    public func makeScaling(balancerURL: String?, token: String?, logger: Logger) async throws -> ScalingActions {
        let balancer = try balancerURL.map {
            try BalancerConnector.balancer(url: $0, token: token ?? CommandEnvironment.token, haproxyBackend: haproxyBackend)
        }
        return ScalingActions(provider: try await makeProvider(logger: logger), balancer: balancer, logger: logger)
    }
}

extension ProviderKind: ExpressibleByArgument {}
extension LibvirtProvider.DiskMode: ExpressibleByArgument {}
extension WarmState: ExpressibleByArgument {}
extension PlacementRule: ExpressibleByArgument {}

extension AutoscalerError: ReportableError {
    public var commandLineMessage: String { description }
}

extension ScalingActions.RemovalFailure: ReportableError {
    public var commandLineMessage: String {
        let cause = (underlying as? any ReportableError)?.commandLineMessage ?? "\(underlying)"
        switch self {
        case .drain: return "drain failed, the instance was kept: \(cause)"
        case .delete: return "delete failed after the drain: \(cause)"
        }
    }
    public var exitCode: Int32 { (underlying as? any ReportableError)?.exitCode ?? 1 }
}

extension LibvirtError: ReportableError {
    public var commandLineMessage: String { "libvirt: \(message)" }
    public var exitCode: Int32 { 1 }
}
