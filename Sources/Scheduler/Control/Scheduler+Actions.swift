import AutoscalerAPI
import InstanceProviders
import Foundation

extension Scheduler {
    typealias Work = ScalingPlanner.Work

    /// Registers running instances the balancer lacks; drains registrations of instances that no
    /// longer exist (only names that look like ours: a user's own backends are left alone).
    func keepPoolInStep(instances: [Instance], backends: [String: BackendStatus], stats: BalancerStats) async {
        let (removing, busy) = state.withLock { ($0.removing, $0.busy) }
        let known = Set(instances.map(\.name))
        // While an action runs, the instance it makes is registered by the action itself.
        for instance in instances
        where instance.state == .running && backends[instance.name] == nil && !removing.contains(instance.name)
            && !(busy && instance.origin == .created)
        {
            guard let endpoint = instance.endpoint else { continue }
            do {
                try await balancer.register(name: instance.name, address: endpoint)
                record(.register, instance: instance.name, reason: "running at \(endpoint); takes traffic once its health check passes")
            } catch {
                logger.warning("cannot register \(instance.name): \(error)")
            }
        }
        for backend in stats.backends
        where !known.contains(backend.name) && backend.state != .draining && InstanceNaming().number(of: backend.name) != nil
            && !removing.contains(backend.name)
        {
            do {
                try await balancer.remove(name: backend.name)
                record(.drain, instance: backend.name, reason: "registered with the balancer but no such instance exists")
            } catch {
                logger.warning("cannot drain stale backend \(backend.name): \(error)")
            }
        }
    }

    func perform(_ work: Work) async {
        let started = ContinuousClock.now
        var kind = "scale_up"
        var succeeded = false
        switch work {
        case .scaleUp(let count, let reason, let startsCooldown):
            record(.scaleUp, reason: reason, startsCooldown: startsCooldown)
            // In parallel: a step of N takes about one instance's startup time, not N of them.
            // (Providers serialize only the short clone-and-start part.)
            let made = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<count { group.addTask { await self.addInstance() != nil } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            succeeded = made == count
        case .scaleDown(let reason, let statuses, let startsCooldown):
            kind = "scale_down"
            guard let target = InstanceStatus.scaleInTarget(statuses) else {
                record(.failure, reason: "\(reason): no instance the autoscaler created to remove")
                break
            }
            record(.scaleDown, instance: target.name, reason: reason, startsCooldown: startsCooldown)
            succeeded = await removeInstance(target.name)
        case .replace(let name, let reason):
            kind = "replace"
            record(.replace, instance: name, reason: reason)
            if await addInstance() != nil { succeeded = await removeInstance(name) }
        case .removeStuck(let name, let reason):
            kind = "remove_stuck"
            record(.failure, instance: name, reason: reason)
            succeeded = await removeInstance(name)
        }
        metrics.acted(kind: kind, succeeded: succeeded, duration: ContinuousClock.now - started)
        let now = Self.monotonic
        let backoff = state.withLock { state in
            state.busy = false
            state.backoff = succeeded ? 0 : min(300, max(2, state.backoff * 2))
            state.retryAt = succeeded ? 0 : now + state.backoff
            return state.backoff
        }
        if !succeeded { logger.warning("\(kind) failed; next action in \(backoff.rounded(toPlaces: 0)) s at the earliest") }
    }

    /// Makes an instance, waits until it serves, registers it; on failure nothing is left.
    private func addInstance() async -> Instance? {
        do {
            let instance = try await actions.add(timeout: configuration.startupTimeout)
            record(.register, instance: instance.name, reason: "serves at \(instance.endpoint.map { "\($0)" } ?? "?")")
            return instance
        } catch {
            record(.failure, reason: "scale up failed (anything made was removed): \(error)")
            return nil
        }
    }

    /// Drains an instance from the balancer, then deletes it.
    private func removeInstance(_ name: String) async -> Bool {
        state.withLock { _ = $0.removing.insert(name) }
        defer { state.withLock { _ = $0.removing.remove(name) } }
        do {
            try await actions.remove(name, drainTimeout: configuration.drainTimeout) { _ in
                self.record(.drain, instance: name, reason: "no new requests; in-flight ones finished")
            }
            record(.delete, instance: name, reason: "deleted")
            return true
        } catch ScalingActions.RemovalFailure.drain(let error) {
            // Deleting anyway would fail requests still in flight; keep it and retry later.
            record(.failure, instance: name, reason: "drain failed, instance kept: \(error)")
        } catch ScalingActions.RemovalFailure.delete(let error) {
            record(.failure, instance: name, reason: "delete failed: \(error)")
        } catch {
            record(.failure, instance: name, reason: "remove failed: \(error)")
        }
        return false
    }
}
