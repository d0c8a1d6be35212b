import ArgumentParser
import InstanceProviders
import ProviderCLI
import Scheduler

/// The warm pool's options, shared by `scheduler serve` and `scheduler simulate`.
public struct WarmPoolOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(help: "Instances to keep prepared in a warm pool outside the balancer; a scale-up takes them first (default 0: none).")
    var warmPool: Int?
    @Option(help: "How warm-pool members are held: paused (RAM kept, back in well under a second) or saved (RAM on disk) (default paused).")
    var warmState: WarmState?
    @Flag(help: "A scale-in returns its instance to the warm pool instead of deleting it while the pool is short.")
    var reuseOnScaleIn = false
    @Option(help: "Most instances prepared in all, group and warm pool together (default: no cap).") var maxPrepared: Int?

    /// The same keys in a `--config` file.
    public struct File: Decodable {
        public init() {}

        var warmPool, maxPrepared: Int?
        var warmState: WarmState?
        var reuseOnScaleIn: Bool?
    }

    public func validate() throws {
        if let warmPool, warmPool < 0 { throw ValidationError("--warm-pool must be ≥ 0") }
        if let maxPrepared, maxPrepared < 1 { throw ValidationError("--max-prepared must be ≥ 1") }
    }

    /// Flags over `file` over the defaults, into the planner's configuration.
    public func apply(to planner: inout ScalingPlanner.Configuration, minimum: Int, file: File = File()) throws {
        planner.warmPool = warmPool ?? file.warmPool ?? planner.warmPool
        planner.warmState = warmState ?? file.warmState ?? planner.warmState
        planner.reuseOnScaleIn = reuseOnScaleIn || (file.reuseOnScaleIn ?? false)
        planner.maxPrepared = maxPrepared ?? file.maxPrepared
        guard planner.warmPool >= 0 else { throw ValidationError("--warm-pool must be ≥ 0") }
        if let cap = planner.maxPrepared, cap < max(1, minimum) {
            throw ValidationError("--max-prepared must be at least --min (\(minimum))")
        }
    }
}
