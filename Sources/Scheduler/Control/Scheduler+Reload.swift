import Foundation

extension Scheduler.Configuration {
    /// What going from these settings to `new` changes: the policy's settings apply at the next
    /// tick (`applied`), the rest only on a restart (`needRestart`), each as `name: old → new`.
    public func reloadChanges(to new: Self) -> (applied: [String], needRestart: [String]) {
        func describe(_ duration: Duration) -> String { "\(duration.seconds.rounded(toPlaces: 3)) s" }
        let applied: [(String, String, String)] = [
            ("policy", "\(policy)", "\(new.policy)"),
            ("min", "\(rules.minimum)", "\(new.rules.minimum)"), ("max", "\(rules.maximum)", "\(new.rules.maximum)"),
            ("maxStepUp", "\(rules.maxStepUp)", "\(new.rules.maxStepUp)"), ("maxStepDown", "\(rules.maxStepDown)", "\(new.rules.maxStepDown)"),
            ("maxParallelLaunches", "\(rules.maxParallelLaunches)", "\(new.rules.maxParallelLaunches)"),
            ("scaleUpCooldown", describe(rules.scaleUpCooldown), describe(new.rules.scaleUpCooldown)),
            ("scaleDownCooldown", describe(rules.scaleDownCooldown), describe(new.rules.scaleDownCooldown)),
            ("scaleDownStabilization", describe(rules.scaleDownStabilization), describe(new.rules.scaleDownStabilization)),
            ("interval", describe(interval), describe(new.interval)),
            ("metrics", metrics.map(\.description).joined(separator: ", "), new.metrics.map(\.description).joined(separator: ", ")),
            ("tolerance", "\(tolerance)", "\(new.tolerance)"), ("quantile", "\(latencyQuantile)", "\(new.latencyQuantile)"),
            ("cpuWarmup", describe(cpuWarmup), describe(new.cpuWarmup)),
        ]
        let restart: [(String, String, String)] = [
            ("window", describe(window), describe(new.window)), ("balancer", balancerURL, new.balancerURL),
            ("balancerToken", balancerToken == nil ? "none" : "set", new.balancerToken == nil ? "none" : "set"),
            ("apiHost", apiHost, new.apiHost), ("apiPort", "\(apiPort)", "\(new.apiPort)"),
            ("history", historyPath ?? "memory", new.historyPath ?? "memory"),
            ("startupTimeout", describe(startupTimeout), describe(new.startupTimeout)),
            ("drainTimeout", describe(drainTimeout), describe(new.drainTimeout)),
            ("replaceAfter", describe(replaceUnhealthyAfter), describe(new.replaceUnhealthyAfter)),
            ("capacity", capacity.map { "\($0)" } ?? "none", new.capacity.map { "\($0)" } ?? "none"),
            ("leadTime", describe(leadTime), describe(new.leadTime)), ("warmPool", "\(warmPool)", "\(new.warmPool)"),
            ("warmState", "\(warmState)", "\(new.warmState)"), ("reuseOnScaleIn", "\(reuseOnScaleIn)", "\(new.reuseOnScaleIn)"),
            ("prometheusUrl", prometheusURL ?? "none", new.prometheusURL ?? "none"),
            ("prometheusQuery", prometheusQuery ?? "none", new.prometheusQuery ?? "none"),
            ("maxPrepared", maxPrepared.map { "\($0)" } ?? "none", new.maxPrepared.map { "\($0)" } ?? "none"),
            ("retentionDays", "\((historyRetention.seconds / 86400).rounded(toPlaces: 3))", "\((new.historyRetention.seconds / 86400).rounded(toPlaces: 3))"),
        ]
        func changed(_ list: [(String, String, String)]) -> [String] { list.filter { $0.1 != $0.2 }.map { "\($0.0): \($0.1) → \($0.2)" } }
        return (changed(applied), changed(restart))
    }
}

extension Scheduler {
    /// Applies `new` policy settings (SIGHUP's path): the policy, bounds, steps, cooldowns,
    /// interval and the scaling metrics with their targets from the next tick (a metric added
    /// that needs what only a start makes, a Prometheus query, holds until a restart), kept in an event saying what changed. The rest stays as it
    /// runs. Returns what changed and what waits for a restart.
    @discardableResult
    public func reload(_ new: Configuration) -> (applied: [String], needRestart: [String]) {
        var new = new
        var deferred: [String] = []
        if metricQuery == nil, new.metrics.contains(where: { $0.metric == .prometheus }) {
            // The query is made at start: without one the metric could only ever hold.
            deferred.append("metrics: adding prometheus needs a restart (the query is made at start); the metrics stay as they run")
            new.metrics = configuration.metrics
        }
        let changes = _configuration.withLock { running in
            var changes = running.reloadChanges(to: new)
            changes.needRestart += deferred
            running.policy = new.policy
            running.rules = new.rules
            running.interval = new.interval
            running.metrics = new.metrics
            running.tolerance = new.tolerance
            running.latencyQuantile = new.latencyQuantile
            running.cpuWarmup = new.cpuWarmup
            return changes
        }
        state.withLock { state in
            state.planner.decider.policy = new.policy
            state.planner.decider.rules = new.rules
            state.planner.configuration.metrics = new.metrics
            state.planner.configuration.tolerance = new.tolerance
        }
        if !changes.applied.isEmpty {
            record(.reload, reason: changes.applied.joined(separator: "; "))
        }
        return changes
    }
}
