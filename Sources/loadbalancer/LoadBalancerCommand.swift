import ArgumentParser
import AutoscalerCLI
import AutoscalerAPI
import Foundation
import LoadBalancer
import NIOCore
import Logging
import ServiceLifecycle

@main
struct LoadBalancerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadbalancer",
        abstract: "Round-robin HTTP reverse proxy in front of the web VMs, with an admin API and metrics.",
        discussion: """
            Clients connect to --host:--port; requests go to the pool's healthy backends. The admin API on \
            --admin-host:--admin-port serves /metrics, /api/v1/stats and /api/v1/backends (PUT adds, DELETE drains). \
            Backends come from --backend flags, a --config file, or the admin API (the scheduler registers its VMs).
            """)

    @OptionGroup var loggingOptions: LoggingOptions

    @Option(help: "Address for clients.") var host: String?
    @Option(help: "Port for clients (default 8080).") var port: Int?
    @Option(name: .customLong("backend"), help: "A backend, [NAME=]HOST:PORT; repeatable. Unnamed ones are backend1, backend2, ...")
    var backends: [String] = []
    @Option(help: "Event-loop threads (default: one per core).") var threads: Int?
    @Option(help: "How to pick a backend: roundrobin, leastconn or p2c (default roundrobin).") var balance: BalanceAlgorithm?
    @Option(help: "Address of the admin API (default 127.0.0.1).") var adminHost: String?
    @Option(help: "Port of the admin API (default 8081).") var adminPort: Int?
    @Option(help: "Token for mutating admin calls (default: $AUTOSCALER_TOKEN; required for a non-loopback admin address).")
    var token: String?
    @Option(
        help: """
            JSON (or JSON5) config file with any of: host, port, threads, balance, backends, adminHost, adminPort, adminToken, \
            checkInterval, healthChecks, failTimeout, responseTimeout, maxBodyBytes, maxConnections, tlsCert, tlsKey, redirectHttp, \
            logLevel. Flags win. \
            SIGHUP re-reads it: backends, balance, limits and timeouts change without dropping a connection.
            """)
    var config: String?
    @Option(help: "Seconds between active health checks (default 2).") var checkInterval: Double?
    @Flag(help: "Turn active health checks off.") var noHealthChecks = false
    @Option(help: "With --no-health-checks: seconds a backend that failed a request is left out (default 10).")
    var failTimeout: Double?
    @Option(help: "Seconds to wait for a backend's response (default 30).") var responseTimeout: Double?
    @Option(help: "Largest request body in bytes (default: no limit).") var maxBodyBytes: Int?
    @Option(help: "Most client connections at once (default 10000).") var maxConnections: Int?
    @Option(help: "Serve TLS on --port with this PEM certificate (its chain may follow it); needs --tls-key. Read again on SIGHUP.")
    var tlsCert: String?
    @Option(help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "With TLS: a plain-HTTP port that answers 308 to the https URL (default: none).") var redirectHttp: Int?

    func validate() throws {
        for (label, value) in [("--port", port), ("--admin-port", adminPort)] {
            if let value, !(0...65535).contains(value) { throw ValidationError("\(label) must be 0 to 65535") }
        }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be 1 to 1024") }
        if let maxBodyBytes, maxBodyBytes < 0 { throw ValidationError("--max-body-bytes must be ≥ 0") }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be ≥ 1") }
    }

    func run() async throws {
        // SIGHUP means "reload": before the reloader runs it must not end the process either.
        signal(SIGHUP, SIG_IGN)
        let configuration = try makeConfiguration()
        let logger = loggingOptions.bootstrap(label: "loadbalancer", fileLevel: try CommandEnvironment.configFile(config, empty: File()).logLevel)
        try await CommandFailure.reporting("loadbalancer", trappingSignals: false) {
            var configuration = configuration
            if configuration.adminToken == nil {
                // Mutating calls always take a token: a web page the user opens could otherwise
                // add backends. One in a file only this user reads; the other commands find it.
                let path = APIToken.file(for: .loadbalancer, port: configuration.adminPort)
                configuration.adminToken = try APIToken.loadOrCreate(path)
                logger.info("admin token (for PUT and DELETE) in \(path)")
            }
            let balancer = LoadBalancer(configuration: configuration, logger: logger)
            if configuration.backends.isEmpty {
                logger.info("no backends yet: add them with --backend or PUT /api/v1/backends/{name}")
            }
            let reloader = HangupReloader { await reload(balancer, logger: logger) }
            let group = ServiceGroup(
                configuration: .init(
                    services: (balancer.services + [reloader]).map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            do {
                try await group.run()
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                throw CommandError(
                    "a port is already in use (\(configuration.host):\(configuration.port) or admin \(configuration.adminHost):\(configuration.adminPort)); is another loadbalancer running?"
                )
            }
        }
    }

    /// The `--config` file: any of these keys, flags win; an unknown key is refused.
    struct File: Decodable {
        var host: String?
        var port: Int?
        var threads: Int?
        var balance: BalanceAlgorithm?
        var backends: [String]?
        var adminHost: String?
        var adminPort: Int?
        var adminToken: String?
        var checkInterval: Double?
        /// false is `--no-health-checks`.
        var healthChecks: Bool?
        var failTimeout: Double?
        var responseTimeout: Double?
        var maxBodyBytes: Int?
        var maxConnections: Int?
        var tlsCert: String?
        var tlsKey: String?
        var redirectHttp: Int?
        var logLevel: Logger.Level?
    }

    /// SIGHUP: the flags and the config file merged again and applied; a file that does not parse
    /// or check is refused with a log line, and the settings stay as they run.
    func reload(_ balancer: LoadBalancer, logger: Logger) async {
        var new: LoadBalancer.Configuration
        do {
            new = try makeConfiguration()
        } catch {
            logger.error("reload refused, the settings stay as they were: \(error)")
            return
        }
        // The token made at start (none was given) is still the one to use.
        if new.adminToken == nil { new.adminToken = balancer.configuration.adminToken }
        let plan: LoadBalancer.ReloadPlan
        do {
            plan = try await balancer.reload(new)
        } catch {
            logger.error("reload refused, the settings stay as they were: \(error)")
            return
        }
        if plan.isEmpty {
            logger.info("reloaded: nothing changed")
            return
        }
        logger.info(
            "reloaded",
            metadata: [
                "registered": "\(plan.register.map { "\($0.name)=\($0.endpoint)" })", "drained": "\(plan.drain)",
                "kept": "\(plan.keptForLackOfOthers)",
                "applied": "\(plan.applied)",
            ])
        if !plan.needRestart.isEmpty {
            logger.warning("changed in the config but kept until a restart: \(plan.needRestart.joined(separator: "; "))")
        }
    }

    /// Flags over the config file over the defaults; what only the merge can tell is a usage error.
    func makeConfiguration() throws -> LoadBalancer.Configuration {
        var result = LoadBalancer.Configuration()
        try CommandEnvironment.checkConfigKeys(config, files: [File()])
        let file = try CommandEnvironment.configFile(config, empty: File())
        result.host = host ?? file.host ?? result.host
        result.port = port ?? file.port ?? result.port
        result.threads = threads ?? file.threads ?? result.threads
        result.adminHost = adminHost ?? file.adminHost ?? result.adminHost
        result.adminPort = adminPort ?? file.adminPort ?? result.adminPort
        result.adminToken = token ?? file.adminToken ?? CommandEnvironment.token
        result.algorithm = balance ?? file.balance ?? result.algorithm
        for (index, text) in ((file.backends ?? []) + backends).enumerated() {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts.count == 2 ? parts[0] : "backend\(index + 1)"
            guard let endpoint = Endpoint(parts.last ?? ""), InstanceNaming.isValid(name) else {
                throw ValidationError("--backend must be [NAME=]HOST:PORT, not '\(text)'")
            }
            guard !result.backends.contains(where: { $0.name == name }) else {
                throw ValidationError("backend name '\(name)' given twice")
            }
            result.backends.append((name, endpoint))
        }
        for (label, value) in [("port", result.port), ("adminPort", result.adminPort)] where !(0...65535).contains(value) {
            throw ValidationError("\(label) must be 0 to 65535")
        }
        guard (1...1024).contains(result.threads) else { throw ValidationError("threads must be 1 to 1024") }
        if result.adminToken == nil && !CommandEnvironment.isLoopback(result.adminHost) {
            throw ValidationError(
                "refusing to serve the admin API on \(result.adminHost) without a token; pass --token or set AUTOSCALER_TOKEN")
        }
        if let interval = checkInterval ?? file.checkInterval { result.health.interval = try .option(interval, "check-interval") }
        result.health.enabled = noHealthChecks ? false : (file.healthChecks ?? true)
        if let timeout = failTimeout ?? file.failTimeout { result.health.failTimeout = try .option(timeout, "fail-timeout") }
        if let timeout = responseTimeout ?? file.responseTimeout { result.responseTimeout = try .option(timeout, "response-timeout") }
        if let bytes = maxBodyBytes ?? file.maxBodyBytes {
            guard bytes >= 0 else { throw ValidationError("maxBodyBytes must be ≥ 0") }
            result.maxBodyBytes = bytes
        }
        if let count = maxConnections ?? file.maxConnections {
            guard count >= 1 else { throw ValidationError("maxConnections must be ≥ 1") }
            result.maxConnections = count
        }
        switch (tlsCert ?? file.tlsCert, tlsKey ?? file.tlsKey) {
        case (let certificate?, let key?):
            let files = LoadBalancer.TLSFiles(certificate: certificate, key: key)
            // Read now: a bad file is a usage error before anything listens (and a refused reload).
            do { _ = try LoadBalancer.makeTLSContext(files) } catch { throw ValidationError("\(error)") }
            result.tls = files
        case (nil, nil):
            break
        default:
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if let port = redirectHttp ?? file.redirectHttp {
            guard result.tls != nil else { throw ValidationError("--redirect-http needs TLS (--tls-cert and --tls-key)") }
            guard (0...65535).contains(port) else { throw ValidationError("redirectHttp must be 0 to 65535") }
            result.redirectHTTPPort = port
        }
        return result
    }
}

extension BalanceAlgorithm: ExpressibleByArgument, Decodable {}
