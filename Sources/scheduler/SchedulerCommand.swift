import ArgumentParser
import AutoscalerCLI
import ProviderCLI
import AutoscalerAPI
import InstanceProviders
import Foundation
import Logging
import Scheduler
import ServiceLifecycle

@main
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "The control loop: scales instances up and down with the load the balancer counts.",
        discussion: """
            Every second it reads the balancer's counters, derives requests per in-service instance over the window \
            (10 s), and scales: above --scale-up-threshold (20) add one, below --scale-down-threshold (5) remove one, \
            not within --cooldown (30 s) of the last action, between --min (2) and --max (8). New instances are \
            registered with the balancer once they serve; one is drained before it is deleted. Its API, metrics \
            and history are on --api-host:--api-port (127.0.0.1:8090).
            """)

    @OptionGroup var loggingOptions: LoggingOptions
    @OptionGroup var providerOptions: ProviderOptions

    @Option(help: "JSON file with any of the options below by their camelCase names (flags win).") var config: String?
    @Option(help: "Scaling policy: threshold (the original's) or target (target tracking).") var policy: PolicyKind?
    @Option(help: "Fewest instances (default 2).") var min: Int?
    @Option(help: "Most instances (default 8).") var max: Int?
    @Option(help: "Seconds between ticks (default 1).") var interval: Double?
    @Option(help: "Seconds of the sliding load window (default 10).") var window: Double?
    @Option(help: "Requests per instance per window above which one is added (default 20).") var scaleUpThreshold: Double?
    @Option(help: "Requests per instance per window below which one is removed (default 5).") var scaleDownThreshold: Double?
    @Option(help: "Target requests per instance per window, for --policy target (default 12.5).") var target: Double?
    @Option(help: "Tolerance around the target, a fraction (default 0.1).") var tolerance: Double?
    @Option(help: "Seconds after any action before the next, both ways (default 30).") var cooldown: Double?
    @Option(help: "Seconds after any action before a scale-up (default: --cooldown).") var scaleUpCooldown: Double?
    @Option(help: "Seconds after any action before a scale-down (default: --cooldown).") var scaleDownCooldown: Double?
    @Option(help: "Seconds over which a scale-down follows the highest recommendation (default 0).") var stabilization: Double?
    @Option(help: "Most instances added in one step (default 1).") var maxStepUp: Int?
    @Option(help: "Most instances removed in one step (default 1).") var maxStepDown: Int?
    @Option(help: "The balancer's admin API (default http://127.0.0.1:8081).") var balancer: String?
    @Option(help: "Token for the balancer's admin API (default: $AUTOSCALER_TOKEN).") var balancerToken: String?
    @Option(help: "Address of the scheduler's API (default 127.0.0.1).") var apiHost: String?
    @Option(help: "Port of the scheduler's API (default 8090).") var apiPort: Int?
    @Option(help: "Token for POST /api/v1/scale (default: $AUTOSCALER_TOKEN; required off loopback).") var token: String?
    @Option(help: "Seconds a new instance has to serve (default 120).") var startupTimeout: Double?
    @Option(help: "Seconds a drain may take (default 30).") var drainTimeout: Double?
    @Option(help: "Seconds of failed health checks before a created instance is replaced (default 30).") var replaceAfter: Double?
    @Option(help: "SQLite history file (default: <state dir>/scheduler.sqlite).") var history: String?
    @Option(help: "Days of history to keep (default 7).") var retentionDays: Double?

    /// `--policy`.
    enum PolicyKind: String, ExpressibleByArgument, Decodable, CaseIterable {
        case threshold
        case target
    }

    /// The `--config` file: the options by their camelCase names; flags win.
    struct File: Decodable {
        var policy: PolicyKind?
        var min, max: Int?
        var interval, window, scaleUpThreshold, scaleDownThreshold, target, tolerance, cooldown, scaleUpCooldown, scaleDownCooldown,
            stabilization: Double?
        var maxStepUp, maxStepDown: Int?
        var balancer, balancerToken, apiHost, token, history: String?
        var apiPort: Int?
        var startupTimeout, drainTimeout, replaceAfter, retentionDays: Double?
    }

    func validate() throws {
        if let min, min < 0 { throw ValidationError("--min must be ≥ 0") }
        if let max, max < 1 { throw ValidationError("--max must be ≥ 1") }
        if let apiPort, !(0...65535).contains(apiPort) { throw ValidationError("--api-port must be 0 to 65535") }
        if let maxStepUp, maxStepUp < 1 { throw ValidationError("--max-step-up must be ≥ 1") }
        if let maxStepDown, maxStepDown < 1 { throw ValidationError("--max-step-down must be ≥ 1") }
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        let logger = loggingOptions.bootstrap(label: "scheduler")
        try await CommandFailure.reporting("scheduler", trappingSignals: false) {
            let admin = try BalancerAdminClient(url: configuration.balancerURL, token: configuration.balancerToken)
            let provider = try await providerOptions.makeProvider(logger: logger)
            let store = try History(path: configuration.historyPath, retention: configuration.historyRetention)
            logger.info("provider: \(provider.summary); history: \(configuration.historyPath ?? "memory")")
            let scheduler = Scheduler(configuration: configuration, provider: provider, balancer: admin, history: store, logger: logger)
            let api = SchedulerAPI(scheduler: scheduler)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: scheduler), .init(service: api.application)], gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
        }
    }

    /// Flags over the config file over the defaults; what only the merge can tell is a usage error.
    func makeConfiguration() throws -> Scheduler.Configuration {
        let file = try CommandEnvironment.configFile(config, empty: File())
        var result = Scheduler.Configuration()
        func seconds(_ value: Double?, _ name: String, allowZero: Bool = false) throws -> Duration? {
            guard let value else { return nil }
            guard value.isFinite, allowZero ? value >= 0 : value > 0 else { throw ValidationError("--\(name) must be a number of seconds > 0") }
            return .milliseconds(Int64(value * 1000))
        }
        var rules = ScalingRules()
        rules.minimum = min ?? file.min ?? rules.minimum
        rules.maximum = max ?? file.max ?? rules.maximum
        guard rules.minimum >= 0, rules.maximum >= 1, rules.minimum <= rules.maximum else {
            throw ValidationError("--min and --max must satisfy 0 ≤ min ≤ max, max ≥ 1")
        }
        rules.maxStepUp = maxStepUp ?? file.maxStepUp ?? rules.maxStepUp
        rules.maxStepDown = maxStepDown ?? file.maxStepDown ?? rules.maxStepDown
        guard rules.maxStepUp >= 1, rules.maxStepDown >= 1 else { throw ValidationError("--max-step-up and --max-step-down must be ≥ 1") }
        let both = try seconds(cooldown ?? file.cooldown, "cooldown", allowZero: true)
        rules.scaleUpCooldown = try seconds(scaleUpCooldown ?? file.scaleUpCooldown, "scale-up-cooldown", allowZero: true) ?? both ?? rules.scaleUpCooldown
        rules.scaleDownCooldown =
            try seconds(scaleDownCooldown ?? file.scaleDownCooldown, "scale-down-cooldown", allowZero: true) ?? both ?? rules.scaleDownCooldown
        rules.scaleDownStabilization = try seconds(stabilization ?? file.stabilization, "stabilization", allowZero: true) ?? .zero
        result.rules = rules
        result.interval = try seconds(interval ?? file.interval, "interval") ?? result.interval
        result.window = try seconds(window ?? file.window, "window") ?? result.window

        let up = scaleUpThreshold ?? file.scaleUpThreshold ?? 20
        let down = scaleDownThreshold ?? file.scaleDownThreshold ?? 5
        switch policy ?? file.policy ?? .threshold {
        case .threshold:
            guard up.isFinite, down.isFinite, down >= 0, up > down else {
                throw ValidationError("--scale-up-threshold must be above --scale-down-threshold (both ≥ 0)")
            }
            result.policy = .threshold(up: up, down: down)
        case .target:
            let value = target ?? file.target ?? 12.5
            let band = tolerance ?? file.tolerance ?? 0.1
            guard value > 0, value.isFinite, band >= 0, band < 1 else { throw ValidationError("--target must be > 0 and --tolerance within 0 … 1") }
            result.policy = .target(value: value, tolerance: band)
        }
        result.balancerURL = balancer ?? file.balancer ?? result.balancerURL
        let environmentToken = CommandEnvironment.token
        result.balancerToken = balancerToken ?? file.balancerToken ?? environmentToken
        result.apiHost = apiHost ?? file.apiHost ?? result.apiHost
        result.apiPort = apiPort ?? file.apiPort ?? result.apiPort
        guard (0...65535).contains(result.apiPort) else { throw ValidationError("--api-port must be 0 to 65535") }
        result.apiToken = token ?? file.token ?? environmentToken
        if result.apiToken == nil && !CommandEnvironment.isLoopback(result.apiHost) {
            throw ValidationError("refusing to serve the API on \(result.apiHost) without a token; pass --token or set AUTOSCALER_TOKEN")
        }
        result.startupTimeout = try seconds(startupTimeout ?? file.startupTimeout, "startup-timeout") ?? result.startupTimeout
        result.drainTimeout = try seconds(drainTimeout ?? file.drainTimeout, "drain-timeout") ?? result.drainTimeout
        result.replaceUnhealthyAfter = try seconds(replaceAfter ?? file.replaceAfter, "replace-after") ?? result.replaceUnhealthyAfter
        result.historyPath = history ?? file.history ?? (providerOptions.processConfiguration.stateDirectory + "/scheduler.sqlite")
        if let days = retentionDays ?? file.retentionDays {
            guard days > 0, days.isFinite else { throw ValidationError("--retention-days must be > 0") }
            result.historyRetention = .seconds(Int64(days * 86400))
        }
        return result
    }
}
