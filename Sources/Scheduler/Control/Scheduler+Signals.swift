import AutoscalerAPI
import InstanceProviders

extension Scheduler {
    /// The reads the active metrics need beyond the balancer's stats, at the same time: every
    /// instance's CPU time (one provider call) and the PromQL query. A read that fails gives nil
    /// (the metric holds), logged when it starts and stops failing.
    /// The CPU times come with the monotonic time they were read at: the tick's own time is
    /// taken before the balancer's and the provider's round trips, whose length varies.
    func readSignals() async -> (cpu: (times: [String: CPUTime], at: Double)?, query: Double?) {
        let active = Set(configuration.metrics.map(\.metric))
        async let cpu =
            active.contains(.cpu) ? read(.cpu, from: provider.summary) { (times: try await self.provider.cpuTimes(), at: Self.monotonic) } : nil
        async let query: Double? =
            if active.contains(.prometheus) {
                if let metricQuery {
                    await read(.prometheus, from: metricQuery.location) { try await metricQuery.value() }
                } else {
                    // Added by a reload: the query is made at start only.
                    await read(.prometheus, from: "the configuration") { () async throws -> Double in
                        throw MetricQueryError("the prometheus metric was added by a reload; it needs a restart to query Prometheus")
                    }
                }
            } else {
                nil
            }
        return await (cpu, query)
    }

    /// Notes that `metric` has no value for a reason other than a failed read (the balancer
    /// does not measure latency), logged once; nil `reason`: it has one again.
    func noteUnreadable(_ metric: ScalingMetric, _ reason: String?) {
        let previous = state.withLock { state in
            reason.map { state.unreadable.updateValue($0, forKey: metric) } ?? state.unreadable.removeValue(forKey: metric)
        }
        if let reason, previous != reason {
            logger.warning("no \(metric.rawValue) metric: \(reason); holding (no scaling on a missing signal)")
        }
    }

    private func read<T: Sendable>(_ metric: ScalingMetric, from source: String, _ body: @Sendable () async throws -> T) async -> T? {
        let started = ContinuousClock.now
        do {
            let value = try await body()
            metrics.signalRead(metric, duration: ContinuousClock.now - started)
            if state.withLock({ $0.unreadable.removeValue(forKey: metric) }) != nil {
                logger.info("\(metric.rawValue) metric readable again from \(source)")
            }
            return value
        } catch {
            let message = "\(error)"
            if state.withLock({ $0.unreadable.updateValue(message, forKey: metric) }) != message {
                logger.warning("cannot read the \(metric.rawValue) metric from \(source): \(message); holding (no scaling on a missing signal)")
            }
            return nil
        }
    }
}
