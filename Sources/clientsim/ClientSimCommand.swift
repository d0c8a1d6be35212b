import ArgumentParser
import AutoscalerCLI
import ClientSimulator
import Foundation
import Logging
import ServiceLifecycle

@main
struct ClientSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clientsim",
        abstract: "Sends varying HTTP traffic to the load balancer and reports what the clients saw.",
        discussion: """
            With no arguments it behaves like the original client simulator: random bursts and quiet spells to \
            http://127.0.0.1:8080/ until Ctrl-C, then a summary. Requests leave at their scheduled times whether or \
            not earlier ones were answered (open loop), and latency counts from the scheduled time, so a stalled \
            server shows in the figures. PATTERN is constant, ramp, step, sine, random or trace (with a CSV FILE of \
            'seconds,rate' rows).
            """)

    @OptionGroup var loggingOptions: LoggingOptions

    @Argument(help: "constant, ramp, step, sine, random (default) or trace.") var pattern: LoadPattern.Kind = .random
    @Argument(help: "For trace: a CSV file of 'seconds,rate' rows.") var file: String?

    @Option(help: "Target URL, http://HOST:PORT/PATH (default http://127.0.0.1:8080/).") var url: String = "http://127.0.0.1:8080/"
    @Option(help: "Path to request, replacing the URL's (e.g. /healthz).") var path: String?
    @Option(help: "Requests per second: the constant rate, the ramp's end, the step's peak, the sine's high, the random bursts' top.")
    var rate: Double?
    @Option(help: "The lower rate: the ramp's start, the step's base, the sine's low, the random quiet spells' top.")
    var baseRate: Double?
    @Option(help: "Seconds: the ramp's length, the step's length, the sine's period.") var period: Double?
    @Option(help: "Seconds from the start at which the step goes up (default 10).") var at: Double?
    @Option(help: "Seconds to run (default: until Ctrl-C).") var duration: Double?
    @Flag(help: "Poisson arrivals instead of evenly spaced ones.") var poisson = false
    @Option(help: "Milliseconds of CPU work per request on the webserver (?work=MS).") var work: Int?
    @Option(help: "Most requests in flight; due requests beyond it are skipped and counted (default 256).") var concurrency: Int = 256
    @Option(help: "Seconds to wait for each answer (default 10).") var timeout: Double = 10
    @Option(help: "Seed for the random pattern and Poisson arrivals (default 1).") var seed: UInt64 = 1
    @Option(help: "Seconds between status lines (default 1 on a terminal, 5 otherwise).") var statusInterval: Double?
    @Option(help: "Also write the summary as JSON to this file.") var json: String?

    func validate() throws {
        if pattern == .trace && file == nil { throw ValidationError("trace needs a FILE of 'seconds,rate' rows") }
        guard ClientSimulator.Target(url: url) != nil else {
            throw ValidationError("--url must look like http://HOST:PORT/PATH, not '\(url)'")
        }
        if let path, !path.hasPrefix("/") || path.contains(" ") { throw ValidationError("--path must start with / and hold no spaces") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be > 0") }
        if let work, work < 0 { throw ValidationError("--work must be ≥ 0") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be ≥ 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be > 0") }
        if let statusInterval, !(statusInterval > 0) { throw ValidationError("--status-interval must be > 0") }
    }

    /// The pattern the arguments describe; a bad one is a usage error.
    func makePattern() throws -> LoadPattern {
        var traceText: String?
        if pattern == .trace, let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            traceText = String(decoding: data, as: UTF8.self)
        }
        do {
            return try LoadPattern.make(pattern, rate: rate, base: baseRate, period: period, at: at, seed: seed, traceText: traceText)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        var configuration = ClientSimulator.Configuration()
        configuration.target = ClientSimulator.Target(url: url)!
        if let path { configuration.target.path = path }
        configuration.pattern = try makePattern()
        configuration.duration = duration
        configuration.poisson = poisson
        configuration.workMilliseconds = work
        configuration.concurrency = concurrency
        configuration.timeout = timeout
        configuration.seed = seed
        configuration.statusInterval = statusInterval
        let logger = loggingOptions.bootstrap(label: "clientsim")
        try await CommandFailure.reporting("clientsim", trappingSignals: false) { [configuration, json] in
            let simulator = ClientSimulator(configuration: configuration, logger: logger) { text in
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: simulator, successTerminationBehavior: .gracefullyShutdownGroup)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            let report = simulator.report
            print(StatusLine.summary(report))
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                do {
                    try encoder.encode(report).write(to: URL(fileURLWithPath: json))
                } catch {
                    throw CommandError("cannot write \(json): \(error)")
                }
            }
        }
    }
}

extension LoadPattern.Kind: ExpressibleByArgument {}
