import ArgumentParser
import AutoscalerCLI
import ProviderCLI
import AutoscalerAPI
import AutoscalerClient
import InstanceProviders
import Foundation
import Logging
import Scheduler
import ServiceLifecycle

/// `scheduler` (or `scheduler serve`): the live control loop.
public struct Serve: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
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

    @Option(
        help: """
            JSON (or JSON5) file with any of the options below by their camelCase names, and logLevel (flags win; an unknown \
            key is refused). SIGHUP re-reads it: the policy, its thresholds, bounds, steps, cooldowns and the interval \
            change at the next tick, with an event saying what changed.
            """)
    var config: String?
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup(title: "Scaling metrics") var metricOptions: MetricOptions
    @Option(help: "The balancer: our admin API (default http://127.0.0.1:8081), or HAProxy's Runtime API as haproxy:/path/to/admin.sock or haproxy://HOST:PORT.") var balancer: String?
    @Option(help: "Token for the balancer's admin API (default: $AUTOSCALER_TOKEN).") var balancerToken: String?
    @Option(help: "Address of the scheduler's API (default 127.0.0.1).") var apiHost: String?
    @Option(help: "Port of the scheduler's API (default 8090).") var apiPort: Int?
    @Option(help: "Token for POST /api/v1/scale (default: $AUTOSCALER_TOKEN; required off loopback).") var token: String?
    @Option(help: "Seconds a new instance has to serve (default 120).") var startupTimeout: Double?
    @Option(help: "Seconds a drain may take (default 30).") var drainTimeout: Double?
    @Option(help: "Seconds of failed health checks before a created instance is replaced (default 30).") var replaceAfter: Double?
    @Option(help: "SQLite history file (default: <state dir>/scheduler.sqlite).") var history: String?
    @Option(help: "Days of history to keep (default 7).") var retentionDays: Double?
    @Option(help: "Requests per second one instance serves, for GET /api/v1/quality (default: none, no report).") var capacity: Double?
    @Option(help: "Seconds the predictive policy forecasts ahead: a new instance's time to serve plus a tick (default 31).")
    var leadTime: Double?
    @OptionGroup var warmPoolOptions: WarmPoolOptions

    /// The `--config` file: the options by their camelCase names (the policy's too); flags win.
    struct File: Decodable {
        var balancer, balancerToken, apiHost, token, history: String?
        var apiPort: Int?
        var startupTimeout, drainTimeout, replaceAfter, retentionDays, capacity, leadTime: Double?
        var logLevel: Logger.Level?
    }

    public init() {}

    public func validate() throws {
        if let capacity, !(capacity > 0 && capacity.isFinite) { throw ValidationError("--capacity must be a number of requests per second > 0") }
        if let apiPort, !(0...65535).contains(apiPort) { throw ValidationError("--api-port must be 0 to 65535") }
    }

    public func run() async throws {
        // SIGHUP means "reload": before the reloader runs it must not end the process either.
        signal(SIGHUP, SIG_IGN)
        let (configuration, providerFile) = try checkedConfiguration()
        let logger = loggingOptions.bootstrap(label: "scheduler", fileLevel: try CommandEnvironment.configFile(config, empty: File()).logLevel)
        try await CommandFailure.reporting("scheduler", trappingSignals: false) {
            let admin = try BalancerConnector.balancer(
                url: configuration.balancerURL, token: configuration.balancerToken, haproxyBackend: providerOptions.haproxyBackend)
            let query = try await prometheusQuery(for: configuration, logger: logger)
            var settings = configuration
            if settings.apiToken == nil {
                // POST /api/v1/scale always takes a token (a web page the user opens could
                // otherwise scale their hypervisor); the dashboard gets it with its page.
                let path = APIToken.file(for: .scheduler, port: settings.apiPort)
                settings.apiToken = try APIToken.loadOrCreate(path)
                logger.info("API token (for POST /api/v1/scale) in \(path)")
            }
            let provider = try await providerOptions.makeProvider(logger: logger, file: providerFile)
            let store = try History(path: settings.historyPath, retention: settings.historyRetention)
            logger.info("provider: \(provider.summary); history: \(settings.historyPath ?? "memory")")
            let scheduler = Scheduler(
                configuration: settings, provider: provider, balancer: admin, history: store, logger: logger, metricQuery: query)
            if !settings.metrics.isEmpty {
                logger.info("scaling on \(settings.metrics.map(\.description).joined(separator: ", "))")
            }
            let api = SchedulerAPI(scheduler: scheduler)
            let reloader = HangupReloader { reload(scheduler, logger: logger) }
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: scheduler), .init(service: api.application), .init(service: reloader)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }

    /// The `prometheus` metric's query, asked once before anything starts: a server that does
    /// not answer, a query it refuses, or one that gives no series or several is an error now,
    /// not a scheduler that holds for ever.
    func prometheusQuery(for configuration: Scheduler.Configuration, logger: Logger) async throws -> PrometheusQuery? {
        guard configuration.metrics.contains(where: { $0.metric == .prometheus }), let url = configuration.prometheusURL,
            let text = configuration.prometheusQuery
        else { return nil }
        let query: PrometheusQuery
        do {
            query = try PrometheusQuery(url: url, query: text)
        } catch {
            throw ValidationError("\(error)")
        }
        do {
            let value = try await query.value()
            logger.info("prometheus query \(query.location) gives \(value)")
        } catch {
            throw CommandError("--prometheus-query: \(error)", exitCode: 12)
        }
        return query
    }

    /// SIGHUP: the flags and the config file merged again; the policy's settings applied (an
    /// event says what changed). A file that does not parse or check is refused with a log line.
    func reload(_ scheduler: Scheduler, logger: Logger) {
        let new: Scheduler.Configuration
        do {
            (new, _) = try checkedConfiguration()
        } catch {
            logger.error("reload refused, the settings stay as they were: \(error)")
            return
        }
        var comparable = new
        // A token made at start (none given) is still the one in use.
        if comparable.apiToken == nil { comparable.apiToken = scheduler.configuration.apiToken }
        let (applied, needRestart) = scheduler.reload(comparable)
        if applied.isEmpty { logger.info("reloaded: no policy setting changed") }
        if !needRestart.isEmpty {
            logger.warning("changed in the config but kept until a restart: \(needRestart.joined(separator: "; "))")
        }
    }

    /// Everything `run` checks before it starts anything: the merged configuration and the
    /// config file's provider part (hosts, placement). A usage error says what is wrong.
    public func checkedConfiguration() throws -> (Scheduler.Configuration, ProviderOptions.File) {
        let configuration = try makeConfiguration()
        let providerFile = try CommandEnvironment.configFile(config, empty: ProviderOptions.File())
        try providerOptions.validate(file: providerFile)
        return (configuration, providerFile)
    }

    /// Flags over the config file over the defaults; what only the merge can tell is a usage error.
    func makeConfiguration() throws -> Scheduler.Configuration {
        try CommandEnvironment.checkConfigKeys(
            config, files: [File(), PolicyOptions.File(), MetricOptions.File(), WarmPoolOptions.File(), ProviderOptions.File()])
        let file = try CommandEnvironment.configFile(config, empty: File())
        var result = Scheduler.Configuration()
        let policyFile = try CommandEnvironment.configFile(config, empty: PolicyOptions.File())
        let metricFile = try CommandEnvironment.configFile(config, empty: MetricOptions.File())
        let metricsGiven = !metricOptions.metrics.isEmpty || !(metricFile.metrics ?? []).isEmpty
        let settings = try policyOptions.settings(file: policyFile, metrics: metricsGiven)
        let metricSettings = try metricOptions.settings(targets: policyOptions.target, policy: policyOptions.policyGiven(file: policyFile), file: metricFile)
        result.metrics = metricSettings.metrics
        result.latencyQuantile = metricSettings.quantile
        result.cpuWarmup = metricSettings.cpuWarmup
        result.prometheusURL = metricSettings.prometheusURL
        result.prometheusQuery = metricSettings.prometheusQuery
        if case .target(_, let tolerance) = settings.policy { result.tolerance = tolerance }
        result.policy = settings.policy
        result.rules = settings.rules
        result.interval = settings.interval
        result.window = settings.window
        let seconds = { (value: Double?, name: String) in try PolicyOptions.seconds(value, name) }
        result.balancerURL = balancer ?? file.balancer ?? result.balancerURL
        if result.metrics.contains(where: { $0.metric == .latency }), result.balancerURL.hasPrefix("haproxy") {
            throw ValidationError(
                "--metric latency needs the balancer's latency histogram, which HAProxy's Runtime API does not give; "
                    + "scale on a --metric prometheus query of HAProxy's own exporter instead")
        }
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
            guard days > 0, days <= 36_500 else { throw ValidationError("--retention-days must be > 0 and at most 36500") }
            result.historyRetention = .seconds(Int64(days * 86400))
        }
        result.capacity = capacity ?? file.capacity
        if let capacity = result.capacity, !(capacity > 0 && capacity.isFinite) {
            throw ValidationError("capacity must be a number of requests per second > 0")
        }
        result.leadTime = try seconds(leadTime ?? file.leadTime, "lead-time") ?? result.leadTime
        var planner = ScalingPlanner.Configuration()
        try warmPoolOptions.apply(
            to: &planner, minimum: result.rules.minimum, file: try CommandEnvironment.configFile(config, empty: WarmPoolOptions.File()))
        result.warmPool = planner.warmPool
        result.warmState = planner.warmState
        result.reuseOnScaleIn = planner.reuseOnScaleIn
        result.maxPrepared = planner.maxPrepared
        return result
    }
}
