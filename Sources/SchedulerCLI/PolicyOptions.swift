import ArgumentParser
import Scheduler

/// The scaling policy and its rules, shared by `scheduler serve` and `scheduler simulate` (the
/// simulator replays the same decisions as the live loop).
public struct PolicyOptions: ParsableArguments, Sendable {
    public init() {}

    /// `--policy`.
    public enum PolicyKind: String, ExpressibleByArgument, Decodable, CaseIterable, Sendable {
        case threshold
        case target
        case predictive
    }

    @Option(help: "Scaling policy: threshold (the original's), target (target tracking) or predictive (the threshold rule plus scaling out ahead of a forecast).")
    var policy: PolicyKind?
    @Option(help: "Fewest instances (default 2).") var min: Int?
    @Option(help: "Most instances (default 8).") var max: Int?
    @Option(help: "Seconds between ticks (default 1).") var interval: Double?
    @Option(help: "Seconds of the sliding load window (default 10).") var window: Double?
    @Option(help: "Requests per instance per window above which one is added (default 20).") var scaleUpThreshold: Double?
    @Option(help: "Requests per instance per window below which one is removed (default 5).") var scaleDownThreshold: Double?
    @Option(help: "Target requests per instance per window, for --policy target (default 12.5); with --metric, each metric's target in the same order (repeatable).")
    public var target: [Double] = []
    @Option(help: "Tolerance around the target, a fraction (default 0.1).") var tolerance: Double?
    @Option(help: "Seconds after any action before the next, both ways (default 30).") var cooldown: Double?
    @Option(help: "Seconds after any action before a scale-up (default: --cooldown).") var scaleUpCooldown: Double?
    @Option(help: "Seconds after any action before a scale-down (default: --cooldown).") var scaleDownCooldown: Double?
    @Option(help: "Seconds over which a scale-down follows the highest recommendation (default 0).") var stabilization: Double?
    @Option(help: "Most instances added in one step (default 1).") var maxStepUp: Int?
    @Option(help: "Most instances removed in one step (default 1).") var maxStepDown: Int?
    @Option(help: "Most instances a scale-up launches in parallel (default 4).") var maxParallelLaunches: Int?

    /// The same keys in a `--config` file.
    public struct File: Decodable {
        public init() {}

        var policy: PolicyKind?
        var min, max: Int?
        var interval, window, scaleUpThreshold, scaleDownThreshold, target, tolerance, cooldown, scaleUpCooldown, scaleDownCooldown,
            stabilization: Double?
        var maxStepUp, maxStepDown, maxParallelLaunches: Int?
    }

    public func validate() throws {
        if let min, min < 0 { throw ValidationError("--min must be ≥ 0") }
        if let max, max < 1 { throw ValidationError("--max must be ≥ 1") }
        if let maxStepUp, maxStepUp < 1 { throw ValidationError("--max-step-up must be ≥ 1") }
        if let maxStepDown, maxStepDown < 1 { throw ValidationError("--max-step-down must be ≥ 1") }
        if let maxParallelLaunches, maxParallelLaunches < 1 { throw ValidationError("--max-parallel-launches must be ≥ 1") }
    }

    /// The policy, its rules and timing, merged.
    public struct Settings {
        public var policy: ScalingPolicy
        public var rules: ScalingRules
        public var interval: Duration
        public var window: Duration
    }

    /// A number of seconds given as `--name` (or its config-file key): nil when not given; a
    /// usage error when not a number of seconds ≥ 1 ms (or ≥ 0 with `allowZero`).
    static func seconds(_ value: Double?, _ name: String, allowZero: Bool = false) throws -> Duration? {
        try value.map { try Duration.option($0, name, allowZero: allowZero) }
    }

    /// `--policy` as given on the command line or in `file` (nil: the default).
    public func policyGiven(file: File = File()) -> PolicyKind? { policy ?? file.policy }

    /// Flags over `file` over the defaults; what only the merge can tell is a usage error. With
    /// `metrics` (``MetricOptions``) the targets are theirs, and the policy is target tracking.
    public func settings(file: File = File(), metrics: Bool = false) throws -> Settings {
        var rules = ScalingRules()
        rules.minimum = min ?? file.min ?? rules.minimum
        rules.maximum = max ?? file.max ?? rules.maximum
        guard rules.minimum >= 0, rules.maximum >= 1, rules.minimum <= rules.maximum else {
            throw ValidationError("--min and --max must satisfy 0 ≤ min ≤ max, max ≥ 1")
        }
        rules.maxStepUp = maxStepUp ?? file.maxStepUp ?? rules.maxStepUp
        rules.maxStepDown = maxStepDown ?? file.maxStepDown ?? rules.maxStepDown
        guard rules.maxStepUp >= 1, rules.maxStepDown >= 1 else { throw ValidationError("--max-step-up and --max-step-down must be ≥ 1") }
        rules.maxParallelLaunches = maxParallelLaunches ?? file.maxParallelLaunches ?? rules.maxParallelLaunches
        guard rules.maxParallelLaunches >= 1 else { throw ValidationError("--max-parallel-launches must be ≥ 1") }
        let both = try Self.seconds(cooldown ?? file.cooldown, "cooldown", allowZero: true)
        rules.scaleUpCooldown = try Self.seconds(scaleUpCooldown ?? file.scaleUpCooldown, "scale-up-cooldown", allowZero: true) ?? both ?? rules.scaleUpCooldown
        rules.scaleDownCooldown =
            try Self.seconds(scaleDownCooldown ?? file.scaleDownCooldown, "scale-down-cooldown", allowZero: true) ?? both ?? rules.scaleDownCooldown
        rules.scaleDownStabilization = try Self.seconds(stabilization ?? file.stabilization, "stabilization", allowZero: true) ?? .zero
        let interval = try Self.seconds(interval ?? file.interval, "interval") ?? .seconds(1)
        let window = try Self.seconds(window ?? file.window, "window") ?? .seconds(10)
        let policy: ScalingPolicy
        let kind = metrics ? .target : self.policy ?? file.policy ?? .threshold
        switch kind {
        case .threshold, .predictive:
            let up = scaleUpThreshold ?? file.scaleUpThreshold ?? 20
            let down = scaleDownThreshold ?? file.scaleDownThreshold ?? 5
            guard up.isFinite, down.isFinite, down >= 0, up > down else {
                throw ValidationError("--scale-up-threshold must be above --scale-down-threshold (both ≥ 0)")
            }
            policy = kind == .predictive ? .predictive(up: up, down: down) : .threshold(up: up, down: down)
        case .target where metrics:
            let band = tolerance ?? file.tolerance ?? 0.1
            guard band >= 0, band < 1 else { throw ValidationError("--tolerance must be within 0 … 1") }
            policy = .target(value: file.target ?? 12.5, tolerance: band)
        case .target:
            guard target.count <= 1 else { throw ValidationError("several --target values need as many --metric") }
            let value = target.first ?? file.target ?? 12.5
            let band = tolerance ?? file.tolerance ?? 0.1
            guard value > 0, value.isFinite, band >= 0, band < 1 else { throw ValidationError("--target must be > 0 and --tolerance within 0 … 1") }
            policy = .target(value: value, tolerance: band)
        }
        return Settings(policy: policy, rules: rules, interval: interval, window: window)
    }
}
