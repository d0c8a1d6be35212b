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
    @Option(help: "How to pick a backend: roundrobin, leastconn or p2c (default roundrobin).") var balance: String?
    @Option(help: "Address of the admin API (default 127.0.0.1).") var adminHost: String?
    @Option(help: "Port of the admin API (default 8081).") var adminPort: Int?
    @Option(help: "Token for mutating admin calls (default: $AUTOSCALER_TOKEN; required for a non-loopback admin address).")
    var token: String?
    @Option(help: "JSON config file with any of: host, port, threads, balance, backends, adminHost, adminPort, adminToken.")
    var config: String?
    @Option(help: "Seconds between active health checks (default 2).") var checkInterval: Double?
    @Flag(help: "Turn active health checks off.") var noHealthChecks = false
    @Option(help: "With --no-health-checks: seconds a backend that failed a request is left out (default 10).")
    var failTimeout: Double?
    @Option(help: "Seconds to wait for a backend's response (default 30).") var responseTimeout: Double?
    @Option(help: "Largest request body in bytes (default: no limit).") var maxBodyBytes: Int?
    @Option(help: "Most client connections at once (default 10000).") var maxConnections: Int?

    func run() async throws {
        let logger = loggingOptions.bootstrap(label: "loadbalancer")
        let configuration: LoadBalancer.Configuration
        do {
            configuration = try makeConfiguration()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("loadbalancer: error: \(error.message)\n".utf8))
            throw ExitCode(64)
        }
        let balancer = LoadBalancer(configuration: configuration, logger: logger)
        if configuration.backends.isEmpty {
            logger.info("no backends yet: add them with --backend or PUT /api/v1/backends/{name}")
        }
        let group = ServiceGroup(
            configuration: .init(services: balancer.services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            FileHandle.standardError.write(
                Data("loadbalancer: error: a port is already in use (\(configuration.host):\(configuration.port) or admin \(configuration.adminHost):\(configuration.adminPort)); is another loadbalancer running?\n".utf8))
            throw ExitCode(1)
        } catch {
            FileHandle.standardError.write(Data("loadbalancer: error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct ConfigurationError: Error {
        let message: String
    }

    struct File: Decodable {
        var host: String?
        var port: Int?
        var threads: Int?
        var balance: String?
        var backends: [String]?
        var adminHost: String?
        var adminPort: Int?
        var adminToken: String?
    }

    func makeConfiguration() throws -> LoadBalancer.Configuration {
        var result = LoadBalancer.Configuration()
        var file = File()
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else { throw ConfigurationError(message: "cannot read \(config)") }
            do {
                file = try JSONDecoder().decode(File.self, from: data)
            } catch {
                throw ConfigurationError(message: "\(config) is not a valid config file: \(error)")
            }
        }
        result.host = host ?? file.host ?? result.host
        result.port = port ?? file.port ?? result.port
        result.threads = threads ?? file.threads ?? result.threads
        result.adminHost = adminHost ?? file.adminHost ?? result.adminHost
        result.adminPort = adminPort ?? file.adminPort ?? result.adminPort
        result.adminToken = token ?? file.adminToken ?? ProcessInfo.processInfo.environment["AUTOSCALER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let name = balance ?? file.balance {
            guard let algorithm = BalanceAlgorithm(rawValue: name) else {
                throw ConfigurationError(message: "--balance must be roundrobin, leastconn or p2c, not '\(name)'")
            }
            result.algorithm = algorithm
        }
        for (index, text) in ((file.backends ?? []) + backends).enumerated() {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts.count == 2 ? parts[0] : "backend\(index + 1)"
            guard let endpoint = Endpoint(parts.last ?? ""), InstanceNaming.isValid(name) else {
                throw ConfigurationError(message: "--backend must be [NAME=]HOST:PORT, not '\(text)'")
            }
            guard !result.backends.contains(where: { $0.name == name }) else {
                throw ConfigurationError(message: "backend name '\(name)' given twice")
            }
            result.backends.append((name, endpoint))
        }
        for (label, value) in [("--port", result.port), ("--admin-port", result.adminPort)] where !(0...65535).contains(value) {
            throw ConfigurationError(message: "\(label) must be 0 to 65535")
        }
        guard (1...1024).contains(result.threads) else { throw ConfigurationError(message: "--threads must be 1 to 1024") }
        if result.adminToken == nil && !Self.isLoopback(result.adminHost) {
            throw ConfigurationError(
                message: "refusing to serve the admin API on \(result.adminHost) without a token; pass --token or set AUTOSCALER_TOKEN")
        }
        if let checkInterval {
            guard checkInterval > 0 else { throw ConfigurationError(message: "--check-interval must be positive") }
            result.health.interval = .milliseconds(Int64(checkInterval * 1000))
        }
        result.health.enabled = !noHealthChecks
        if let failTimeout {
            guard failTimeout > 0 else { throw ConfigurationError(message: "--fail-timeout must be positive") }
            result.health.failTimeout = .milliseconds(Int64(failTimeout * 1000))
        }
        if let responseTimeout {
            guard responseTimeout > 0 else { throw ConfigurationError(message: "--response-timeout must be positive") }
            result.responseTimeout = .milliseconds(Int64(responseTimeout * 1000))
        }
        if let maxBodyBytes { result.maxBodyBytes = maxBodyBytes }
        if let maxConnections { result.maxConnections = maxConnections }
        return result
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
