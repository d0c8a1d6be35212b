import ArgumentParser
import AutoscalerCLI
import ProviderCLI
import AutoscalerAPI
import InstanceProviders

@main
struct ScaleDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-down",
        abstract: "Remove one web server the autoscaler created: the named one, or the newest.",
        discussion: """
            Stops and deletes the instance with everything made for it (for a VM: its domain and disk volumes). With --drain, the load balancer first stops sending it requests and lets open ones finish. VMs the autoscaler did not create (web_vm1, web_vm2, your own) are never deleted. With --to-pool, the instance is held in the warm pool (as --warm-state) instead of deleted; warm-pool members themselves are removed only by name. \n\nExit codes: 3 libvirt unreachable, 9 no such instance, 10 not created by the autoscaler, 11 load balancer error, 1 anything else.
            """)

    @OptionGroup var providerOptions: ProviderOptions
    @OptionGroup var loggingOptions: LoggingOptions

    @Argument(help: "Instance to remove (default: the newest one the autoscaler created).")
    var name: String?

    @Option(help: "A load balancer to drain the instance from first: its admin URL (http://127.0.0.1:8081) or HAProxy's Runtime API (haproxy:/path/to/admin.sock, haproxy://HOST:PORT).")
    var drain: String?

    @Option(help: "Seconds to wait for the drain to finish.")
    var drainTimeout: Int = 30

    @Option(help: "Admin API token (default: $AUTOSCALER_TOKEN).")
    var token: String?

    @Flag(help: "Hold the instance in the warm pool instead of deleting it.")
    var toPool = false

    @Option(help: "How --to-pool holds it: paused (RAM kept) or saved (RAM on disk).")
    var warmState: WarmState = .paused

    func validate() throws {
        guard drainTimeout > 0 else { throw ValidationError("--drain-timeout must be positive") }
    }

    func run() async throws {
        let logger = loggingOptions.bootstrap(label: "scale-down")
        let removed = try await CommandFailure.reporting("scale-down") {
            let scaling = try await providerOptions.makeScaling(balancerURL: drain, token: token, logger: logger)
            if toPool { return try await scaling.returnToPool(name, as: warmState, drainTimeout: .seconds(drainTimeout)) }
            return try await scaling.remove(name, drainTimeout: .seconds(drainTimeout))
        }
        print(toPool ? "held \(removed.name) in the warm pool (\(warmState.rawValue))" : "removed \(removed.name)")
    }
}
