import ArgumentParser
import AutoscalerAPI
import AutoscalerCLI
import Foundation
import Scheduler
import SchedulerCLI

/// `scheduler simulate TRACE.csv`: the live planner replayed over a trace, faster than real time.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a request-rate trace through the scheduler's planner on a simulated clock.",
        discussion: """
            TRACE is a CSV of 'seconds,rate' rows (the format of clientsim trace). Each instance serves --capacity \
            requests per second, so the demand is ceil(rate / capacity) instances; a new instance serves --startup \
            seconds after the decision; a removal is immediate. The policy flags are the live scheduler's. Prints \
            what it cost (instance-hours, actions) and how well it kept up (the SPEC RG elasticity metrics).
            """)

    @Argument(help: "The trace: 'seconds,rate' rows.") var trace: String
    @OptionGroup var policyOptions: PolicyOptions
    @Option(
        name: .customLong("metric"),
        help: "Scale on this metric against its --target (repeatable): requests, or cpu as the model's utilisation (rate per instance over --capacity). A trace of rates gives no latency, in-flight or Prometheus signal.")
    var metrics: [ScalingMetric] = []
    @Option(help: "Requests per second one instance serves.") var capacity: Double
    @Option(help: "Seconds from a scale-up decision until the new instance serves (default: the median of --history's scale-ups, else 30).")
    var startup: Double?
    @Option(help: "A scheduler's SQLite history: its scale-ups' median time to serve is the default --startup.") var history: String?
    @Option(help: "Multiply every rate of the trace by this (default 1).") var rateScale: Double = 1
    @Option(help: "Also write the result as JSON to this file.") var json: String?
    @Option(help: "Write a CSV row per tick to this file: seconds,rate,demand,inService,pending,desired.") var timeline: String?
    @OptionGroup var warmPoolOptions: WarmPoolOptions
    @Option(help: "Seconds from taking a warm-pool member until it serves (default 1).") var warmStartup: Double = 1

    func validate() throws {
        guard capacity > 0, capacity.isFinite else { throw ValidationError("--capacity must be a number of requests per second > 0") }
        if let startup { _ = try Duration.option(startup, "startup", allowZero: true) }
        guard rateScale > 0, rateScale <= 1e6 else { throw ValidationError("--rate-scale must be > 0 and at most 10^6") }
        _ = try Duration.option(warmStartup, "warm-startup", allowZero: true)
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: trace) else { throw ValidationError("cannot read \(trace)") }
        let parsed: Trace
        do {
            parsed = try Trace.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw ValidationError("\(trace): \(error.message)")
        }
        for metric in metrics where !TraceSimulator.supports(metric) {
            throw ValidationError("--metric \(metric.rawValue): a trace of rates gives no \(metric.rawValue) signal; simulate scales on requests or cpu")
        }
        let metricTargets = try MetricOptions.targets(MetricOptions.pair(metrics, policyOptions.target), policy: policyOptions.policyGiven())
        let settings = try policyOptions.settings(metrics: !metrics.isEmpty)
        let ticks = TraceSimulator.ticks(of: parsed, interval: settings.interval)
        guard ticks <= Double(TraceSimulator.maximumTicks) else {
            throw ValidationError("\(trace) spans \(ticks) ticks of --interval; at most \(TraceSimulator.maximumTicks)")
        }
        var configuration = TraceSimulator.Configuration()
        configuration.policy = settings.policy
        configuration.rules = settings.rules
        configuration.interval = settings.interval
        configuration.window = settings.window
        configuration.capacity = capacity
        configuration.startup = try startupSeconds()
        configuration.rateScale = rateScale
        var planner = ScalingPlanner.Configuration()
        try warmPoolOptions.apply(to: &planner, minimum: settings.rules.minimum)
        configuration.warmPool = planner.warmPool
        configuration.reuseOnScaleIn = planner.reuseOnScaleIn
        configuration.maxPrepared = planner.maxPrepared
        configuration.warmStartup = warmStartup
        configuration.metrics = metricTargets
        if case .target(_, let tolerance) = settings.policy { configuration.tolerance = tolerance }

        var rows = "seconds,rate,demand,inService,pending,desired\n"
        let started = ContinuousClock.now
        let result = TraceSimulator(configuration: configuration).run(parsed) { row in
            guard timeline != nil else { return }
            rows += "\(row.seconds),\(row.rate),\(row.demand),\(row.inService),\(row.pending),\(row.desired)\n"
        }
        let took = ContinuousClock.now - started
        print(Self.summary(result, took: took))
        if let timeline { try write(Data(rows.utf8), to: timeline) }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try write(try encoder.encode(result), to: json)
        }
    }

    /// `--startup`, else the median time to serve of the scale-ups in `--history`, else 30 s.
    private func startupSeconds() throws -> Double {
        if let startup { return startup }
        guard let history else { return 30 }
        guard FileManager.default.fileExists(atPath: history) else { throw ValidationError("cannot read \(history)") }
        let events: [ScalingEvent]
        do {
            events = try History(path: history).events(since: 0, limit: 1_000_000)
        } catch {
            throw ValidationError("\(history) is not a scheduler history: \(error)")
        }
        let times = ScalingEvent.readyTimes(events)
        guard let median = ScalingEvent.median(times) else {
            throw ValidationError("\(history) holds no scale-up that served; pass --startup")
        }
        print("startup \(median.rounded(toPlaces: 1)) s: the median of \(times.count) scale-ups in \(history)")
        return median
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw CommandError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func summary(_ result: TraceSimulator.Result, took: Duration) -> String {
        func f(_ value: Double, _ places: Int = 1) -> String { value.rounded(toPlaces: places) }
        let m = result.metrics
        return """
            \(result.policy): \(f(result.seconds / 3600, 2)) h simulated in \(f(took.seconds, 2)) s
              cost       \(f(result.instanceSeconds / 3600, 2)) instance-hours, \(result.actions) actions
              shortfall  \(f(result.underProvisionedSeconds, 0)) s under-provisioned: τ_U \(f(m.tauU)) %  θ_U \(f(m.thetaU)) %  a_U \(f(m.aU)) %
              excess     τ_O \(f(m.tauO)) %  θ_O \(f(m.thetaO)) %  a_O \(f(m.aO)) %
              stability  k \(f(m.instability)) %  k′ \(f(m.instabilityPrime)) %  jitter \(f(m.jitter, 3)) /min
            """ + (result.warmSeconds > 0 ? "\n  warm pool  \(f(result.warmSeconds / 3600, 2)) member-hours held" : "")
    }
}
