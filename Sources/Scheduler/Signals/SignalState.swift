import AutoscalerAPI
import InstanceProviders

/// What the scheduler keeps between ticks to turn one tick's raw reads into the metrics' values:
/// CPU-time readings and in-flight counts over the window, and since when each instance has been
/// in service (for the CPU warm-up). Pure: the reads come in, values in each target's unit out.
public struct SignalState: Sendable {
    var cpu: CPUWindow
    var inflight: GaugeWindow
    /// Monotonic seconds since when each in-service instance has been in service; those in
    /// service at the first tick count as in service for ever (they served before this run).
    var inServiceSince: [String: Double] = [:]
    private var ticks = 0

    /// A state for metrics over a window of `window` seconds.
    public init(window: Double) {
        cpu = CPUWindow(seconds: window)
        inflight = GaugeWindow(seconds: window)
    }

    /// This tick's values: `inService` names the instances in service; `backends` is the
    /// balancer's view (nil when it did not answer); `cpu` the providers' CPU times (and when
    /// they were read) and `query` the PromQL value (nil when not read or not readable). A metric
    /// without a trustworthy value is absent, so that the planner holds. `cpuCounted`: how many
    /// in-service instances the CPU average counted (the planner weighs in the others).
    public mutating func update(
        now: Double, inService: [String], backends: [String: BackendStatus]?, window: LoadWindow, cpu reading: (times: [String: CPUTime], at: Double)?,
        query: Double?, configuration: Scheduler.Configuration
    ) -> (values: [ScalingMetric: Double], cpuCounted: Int?) {
        ticks += 1
        let names = Set(inService)
        inServiceSince = inServiceSince.filter { names.contains($0.key) }
        for name in inService where inServiceSince[name] == nil { inServiceSince[name] = ticks == 1 ? -.infinity : now }
        let count = Double(inService.count)
        // A group total per in-service instance; with none in service, the total (it asks for the first).
        func perInstance(_ total: Double) -> Double { count > 0 ? total / count : total }
        var values: [ScalingMetric: Double] = [:]
        var cpuCounted: Int?
        if let backends {
            if window.hasHistogram {
                // Little's law from the balancer's histogram: every request's time, however it
                // falls between two ticks (nil before the window spans 2 s, as requests).
                values[.inflight] = window.concurrency.map(perInstance)
            } else {
                // HAProxy: the gauge read once a tick, which misses requests that come and go
                // between two reads.
                inflight.add(perInstance(Double(inService.reduce(0) { $0 + (backends[$1]?.inFlight ?? 0) })), at: now)
                values[.inflight] = inflight.average
            }
            if configuration.metrics.contains(where: { $0.metric == .latency }) {
                // No request in the window: nothing is slow, the metric abstains (0 ms); no
                // histogram at all (a balancer that does not measure latency): no sample.
                if window.requestsInWindow == 0 {
                    values[.latency] = 0
                } else {
                    values[.latency] = window.latency(configuration.latencyQuantile).map { $0 * 1000 }
                }
            }
        } else {
            inflight.reset()
        }
        if let reading {
            cpu.add(reading.times.filter { names.contains($0.key) }, at: reading.at)
            let counted = cpu.utilisation(of: inServiceSince, now: now, warmup: configuration.cpuWarmup.seconds)
            // The average of those with a value; the planner weighs in the others.
            if !counted.isEmpty {
                values[.cpu] = counted.reduce(0, +) / Double(counted.count)
                cpuCounted = counted.count
            }
        } else {
            cpu.reset()
        }
        // Per instance, as KEDA's Prometheus scaler (an AverageValue target): the query's total
        // over the instances serving it; with none, the total asks for the first.
        if let query { values[.prometheus] = perInstance(query) }
        return (values, cpuCounted)
    }
}
