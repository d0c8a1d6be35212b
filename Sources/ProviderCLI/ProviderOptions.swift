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

    @Option(help: "How new instances are placed over several hosts: spread (fewest of ours), pack (fill each to --host-max) or memory (most free).")
    public var placement: PlacementRule = .spread

    @Option(help: "Most of our instances on one host (default: no limit).")
    public var hostMax: Int?

    @Option(help: "Seconds a host that stopped answering keeps its instances before they count as lost (default 30).")
    public var hostTimeout: Double = 30

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

    @Option(help: "State directory of the process provider (default: $AUTOSCALER_STATE_DIR, $XDG_STATE_HOME/autoscaler or ~/.local/state/autoscaler).")
    public var stateDir: String?

    @Option(help: "The webserver executable the process provider starts (default: next to this one).")
    public var webserverPath: String?

    public init() {}

    public func validate() throws {
        if let hostMax, hostMax < 1 { throw ValidationError("--host-max must be ≥ 1") }
        guard hostTimeout >= 0, hostTimeout <= 86_400 else { throw ValidationError("--host-timeout must be 0 to 86400 seconds") }
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

    /// Connects the chosen provider; several `--uri` make a ``MultiHostProvider`` over them.
    public func makeProvider(logger: Logger) async throws -> any InstanceProvider {
        if uris.count > 1 {
            let hosts = uris.map { uri in
                var configuration = libvirtConfiguration
                configuration.uri = uri
                return MultiHostProvider.Host(configuration: configuration)
            }
            return try MultiHostProvider(
                hosts: hosts, placement: Placement(rule: placement, hostMaximum: hostMax), naming: InstanceNaming(prefix: namePrefix),
                hostTimeout: .milliseconds(Int64(hostTimeout * 1000)), logger: logger)
        }
        return try await ProviderFactory.make(provider, libvirt: libvirtConfiguration, process: processConfiguration, logger: logger)
    }

    /// The provider, with the balancer at `balancerURL` (if any) kept in step; the admin token is
    /// `token`, else `$AUTOSCALER_TOKEN`. The URL is checked before the provider connects.
    public func makeScaling(balancerURL: String?, token: String?, logger: Logger) async throws -> ScalingActions {
        let balancer = try balancerURL.map {
            try BalancerAdminClient(url: $0, token: token ?? CommandEnvironment.token)
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
