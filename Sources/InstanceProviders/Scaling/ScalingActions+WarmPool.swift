import AutoscalerAPI

extension ScalingActions {
    /// Prepares a warm-pool member: creates an instance, waits until it serves, holds it as
    /// `state`. It is never registered. On any failure what was made is deleted. `created` is
    /// told the member's name as soon as it exists.
    public func prepare(as state: WarmState, timeout: Duration, created: @Sendable (String) -> Void = { _ in }) async throws -> Instance {
        let instance = try await provider.create(name: nil, warm: state)
        created(instance.name)
        do {
            try await provider.waitUntilServing(instance, timeout: timeout)
            try await provider.hold(name: instance.name, as: state)
            return try await provider.instance(named: instance.name)
        } catch {
            try? await provider.delete(name: instance.name)
            throw error
        }
    }

    /// Takes a warm-pool member into service: resumes or restores it, reads its endpoint anew (a
    /// lease may have changed while it slept), and registers it once it serves. A member that
    /// fails any of it is broken: it is deleted and the error thrown.
    ///
    /// With a balancer the member is registered at once: the balancer checks a new member before
    /// it routes to it, so when that first check passes nothing more is asked of the guest (one
    /// round trip instead of two, which under load on a busy host is most of the time to serve).
    /// Otherwise it is probed until it serves, as a cold instance is.
    public func launch(fromPool name: String, timeout: Duration) async throws -> Instance {
        do {
            let released = try await provider.release(name: name)
            if let balancer, let endpoint = released.endpoint {
                try await balancer.register(name: name, address: endpoint)
                if try await balancer.stats().backends.first(where: { $0.name == name })?.state == .active {
                    logger.info("registered with the load balancer", metadata: ["instance": "\(name)", "address": "\(endpoint)"])
                    return released
                }
            }
            try await provider.waitUntilServing(released, timeout: timeout)
            let instance = try await provider.instance(named: name)
            if let balancer {
                guard let endpoint = instance.endpoint else { throw AutoscalerError.provider("\(name) has no known address") }
                try await balancer.register(name: name, address: endpoint)
                logger.info("registered with the load balancer", metadata: ["instance": "\(name)", "address": "\(endpoint)"])
            }
            return instance
        } catch {
            _ = try? await balancer?.remove(name: name)
            try? await provider.delete(name: name)
            throw error
        }
    }

    /// Scale-in into the pool (AWS's reuse on scale-in): drains the named instance, or the newest
    /// one the autoscaler created, then holds it as `state` instead of deleting it. Failures are
    /// ``RemovalFailure``s as for ``remove(_:drainTimeout:drained:)``; an instance that cannot be
    /// held is deleted (scaled in all the same) and the hold's error thrown.
    @discardableResult
    public func returnToPool(
        _ name: String? = nil, as state: WarmState, drainTimeout: Duration, drained: @Sendable (Instance) -> Void = { _ in }
    ) async throws -> Instance {
        if let name, try await provider.instance(named: name).warm != nil {
            throw AutoscalerError.provider("\(name) is in the warm pool already")
        }
        let target = try await drainTarget(name, drainTimeout: drainTimeout, drained: drained)
        do {
            try await provider.hold(name: target.name, as: state)
        } catch {
            logger.warning("cannot hold it in the pool, deleting it", metadata: ["instance": "\(target.name)", "error": "\(error)"])
            do { try await provider.delete(name: target.name) } catch { throw RemovalFailure.delete(error) }
            throw error
        }
        var held = target
        held.warm = state
        return held
    }
}
