import AutoscalerAPI
import InstanceProviders

extension Scheduler {
    /// The reads the active metrics need beyond the balancer's stats, at the same time: every
    /// instance's CPU time (one provider call) and the PromQL query. A read that fails gives nil
    /// (the metric holds), logged when it starts and stops failing.
    func readSignals() async -> (cpu: [String: CPUTime]?, query: Double?) {
        let active = Set(configuration.metrics.map(\.metric))
        async let cpu = active.contains(.cpu) ? read(.cpu, from: provider.summary) { try await self.provider.cpuTimes() } : nil
        async let query: Double? =
            if active.contains(.prometheus) {
                if let metricQuery {
                    await read(.prometheus, from: metricQuery.location) { try await metricQuery.value() }
                } else {
                    nil
                }
            } else {
                nil
            }
        return await (cpu, query)
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
