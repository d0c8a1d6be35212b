import AutoscalerAPI
import InstanceProviders
import Foundation
import Synchronization

extension Scheduler {
    typealias Work = ScalingPlanner.Work

    /// Registers running instances the balancer lacks; drains registrations of instances that no
    /// longer exist (only names that look like ours: a user's own backends are left alone).
    func keepPoolInStep(instances: [Instance], backends: [String: BackendStatus], stats: BalancerStats) async {
        let (removing, busy) = state.withLock { ($0.removing, $0.busy) }
        let known = Set(instances.map(\.name))
        // While an action runs, the instance it makes is registered by the action itself.
        for instance in instances
        where instance.state == .running && instance.warm == nil && backends[instance.name] == nil && !removing.contains(instance.name)
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

    /// Carries out `work`; `trigger` is the metric that asked for it, kept with its event.
    func perform(_ work: Work, trigger: MetricCombiner.Reading? = nil) async {
        let started = ContinuousClock.now
        var kind = "scale_up"
        var succeeded = false
        switch work {
        case .scaleUp(let count, let fromPool, let reason, let startsCooldown):
            let poolNote = fromPool.isEmpty ? "" : " (\(fromPool.count) of \(count) from the warm pool)"
            record(.scaleUp, reason: reason + poolNote, startsCooldown: startsCooldown, trigger: trigger)
            // In parallel: a step of N takes about one instance's startup time, not N of them.
            // (Providers serialize only the short clone-and-define part.)
            let made = await withTaskGroup(of: Bool.self) { group in
                for name in fromPool { group.addTask { await self.launchFromPool(name) } }
                for _ in 0..<(count - fromPool.count) { group.addTask { await self.addInstance() != nil } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            state.withLock { $0.inFlight.subtract(fromPool) }
            succeeded = made == count
        case .scaleDown(let reason, let statuses, let toPool, let startsCooldown):
            kind = "scale_down"
            let hosts = provider as? MultiHostProvider
            guard let target = InstanceStatus.scaleInTarget(statuses, placement: hosts?.placement, hostOrder: hosts?.hosts.map(\.label) ?? [])
            else {
                record(.failure, reason: "\(reason): no instance the autoscaler created to remove")
                break
            }
            record(.scaleDown, instance: target.name, reason: reason, startsCooldown: startsCooldown, trigger: trigger)
            if let toPool {
                succeeded = await returnToPool(target.name, as: toPool)
            } else {
                succeeded = await removeInstance(target.name)
            }
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
            record(
                .register, instance: instance.name,
                reason: "serves at \(instance.endpoint.map { "\($0)" } ?? "?")" + (instance.host.map { " on host \($0)" } ?? ""))
            return instance
        } catch {
            record(.failure, reason: "scale up failed (anything made was removed): \(error)")
            return nil
        }
    }

    /// Takes a warm-pool member into service; one that does not come back is deleted (the pool
    /// refills) and a cold launch made in its place.
    private func launchFromPool(_ name: String) async -> Bool {
        record(.launchFromPool, instance: name, reason: "taken from the warm pool")
        do {
            let instance = try await actions.launch(fromPool: name, timeout: configuration.startupTimeout)
            record(.register, instance: name, reason: "serves at \(instance.endpoint.map { "\($0)" } ?? "?") (from the warm pool)")
            return true
        } catch {
            record(.failure, instance: name, reason: "warm-pool member did not come back, deleted; launching a cold one instead: \(error)")
            return await addInstance() != nil
        }
    }

    /// Drains an instance from the balancer, then holds it in the warm pool.
    private func returnToPool(_ name: String, as warm: WarmState) async -> Bool {
        state.withLock {
            $0.removing.insert(name)
            $0.returning.insert(name)
        }
        defer {
            state.withLock {
                $0.removing.remove(name)
                $0.returning.remove(name)
            }
        }
        do {
            try await actions.returnToPool(name, as: warm, drainTimeout: configuration.drainTimeout) { _ in
                self.record(.drain, instance: name, reason: "no new requests; in-flight ones finished")
            }
            record(.returnToPool, instance: name, reason: "held \(warm.rawValue) in the warm pool")
            return true
        } catch ScalingActions.RemovalFailure.drain(let error) {
            record(.failure, instance: name, reason: "drain failed, instance kept: \(error)")
        } catch {
            record(.failure, instance: name, reason: "return to the warm pool failed: \(error)")
        }
        return false
    }

    /// Prepares one warm-pool member in the background; a failure backs preparation off.
    func prepareMember() async {
        let warm = configuration.planner.warmState
        let name = Mutex<String?>(nil)
        var failure: (any Error)?
        do {
            // In flight from the moment it exists, so that no tick takes it for broken.
            let member = try await actions.prepare(as: warm, timeout: configuration.startupTimeout) { created in
                name.withLock { $0 = created }
                self.state.withLock { _ = $0.inFlight.insert(created) }
            }
            record(.prepare, instance: member.name, reason: "ready in the warm pool (\(warm.rawValue))")
        } catch {
            failure = error
        }
        let now = Self.monotonic
        let backoff = state.withLock { state in
            if let created = name.withLock({ $0 }) { state.inFlight.remove(created) }
            state.preparing -= 1
            state.poolBackoff = failure == nil ? 0 : min(300, max(2, state.poolBackoff * 2))
            state.poolRetryAt = failure == nil ? 0 : now + state.poolBackoff
            return state.poolBackoff
        }
        if let failure {
            record(
                .failure,
                reason: "preparing a warm-pool member failed (anything made was removed); next in \(backoff.rounded(toPlaces: 0)) s: \(failure)")
        }
    }

    /// Deletes a broken warm-pool member.
    func discardMember(_ name: String, reason: String) async {
        defer { state.withLock { _ = $0.inFlight.remove(name) } }
        do {
            try await provider.delete(name: name)
            record(.delete, instance: name, reason: "\(reason): deleted (the pool refills)")
        } catch {
            record(.failure, instance: name, reason: "\(reason); delete failed: \(error)")
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
