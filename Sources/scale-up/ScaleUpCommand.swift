import ArgumentParser
import AutoscalerCLI
import ProviderCLI
import AutoscalerAPI
import InstanceProviders

@main
struct ScaleUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-up",
        abstract: "Add one web server: clone the template into the next free web_vm<N>, start it, wait until it serves.",
        discussion: """
            Prints the new instance's name and endpoint (host:port) on stdout. With --register, also adds it to a running load balancer's pool. Whatever fails after the VM was made (timeout, balancer refused) removes it again. \n\nWarm pool: --warm prepares a member instead (made, serving, then held as --warm-state, never registered); --from-pool takes a held member into service (resumed or restored, checked, registered with --register) instead of cloning. \n\nExit codes: 3 libvirt unreachable, 4 template missing, 5 template running, 6 name taken or invalid, 7 no free port, 8 timeout, 11 load balancer error, 1 anything else.
            """)

    @OptionGroup var providerOptions: ProviderOptions
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(help: "Name of the new instance (default: the next free <prefix><N>).")
    var name: String?

    @Flag(help: "Return once started, without waiting until it answers HTTP.")
    var noWait = false

    @Option(help: "Seconds to wait until the new instance answers HTTP.")
    var timeout: Int = 120

    @Option(help: "A load balancer to add the instance to: its admin URL (http://127.0.0.1:8081) or HAProxy's Runtime API (haproxy:/path/to/admin.sock, haproxy://HOST:PORT).")
    var register: String?

    @Option(help: "Admin API token (default: $AUTOSCALER_TOKEN).")
    var token: String?

    @Flag(help: "Print the instance as JSON.")
    var json = false

    @Flag(help: "Prepare a warm-pool member instead: made, serving, then held out of service as --warm-state.")
    var warm = false

    @Option(help: "How --warm holds the member: paused (RAM kept) or saved (RAM on disk).")
    var warmState: WarmState = .paused

    @Flag(help: "Take a warm-pool member into service instead of cloning (the named one, else any held member).")
    var fromPool = false

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if warm && fromPool { throw ValidationError("--warm and --from-pool exclude each other") }
        if warm && (noWait || register != nil) { throw ValidationError("--warm waits until the member serves and never registers it") }
        if fromPool && noWait { throw ValidationError("--from-pool waits until the member serves") }
        if let name, !InstanceNaming.isValid(name) { throw ValidationError(AutoscalerError.invalidName(name).description) }
    }

    func run() async throws {
        let logger = loggingOptions.bootstrap(label: "scale-up")
        let instance = try await CommandFailure.reporting("scale-up") {
            let scaling = try await providerOptions.makeScaling(balancerURL: register, token: token, logger: logger)
            if warm {
                if name != nil { throw AutoscalerError.provider("--warm picks the member's name itself") }
                return try await scaling.prepare(as: warmState, timeout: .seconds(timeout))
            }
            if fromPool {
                let members = try await scaling.provider.instances().filter { $0.warm != nil && $0.held }
                guard let member = name.flatMap({ wanted in members.first { $0.name == wanted } }) ?? (name == nil ? members.first : nil) else {
                    throw AutoscalerError.provider(name.map { "\($0) is not a held warm-pool member" } ?? "the warm pool is empty")
                }
                return try await scaling.launch(fromPool: member.name, timeout: .seconds(timeout))
            }
            return try await scaling.add(name: name, wait: !noWait, timeout: .seconds(timeout))
        }
        print(json ? try instance.jsonLine() : "\(instance.name) \(instance.endpoint?.description ?? "-")")
    }
}
