import AutoscalerAPI
import Logging

/// One scaling step by hand, as `scale-up` and `scale-down` do it, with the balancer kept in step.
public struct ManualScaling: Sendable {
    public let provider: any InstanceProvider
    /// When set, a new instance is registered with the balancer and a removed one drained first.
    public let balancer: (any Balancer)?
    let logger: Logger

    public init(provider: any InstanceProvider, balancer: (any Balancer)? = nil, logger: Logger) {
        self.provider = provider
        self.balancer = balancer
        self.logger = logger
    }

    /// Creates an instance, waits until it serves (unless `wait` is false) and registers it.
    ///
    /// Any failure after the instance was made (timeout, balancer refused) deletes it again.
    public func scaleUp(name: String?, wait: Bool, timeout: Duration) async throws -> Instance {
        var instance = wait ? try await provider.createServing(name: name, timeout: timeout) : try await provider.create(name: name)
        guard let balancer else { return instance }
        do {
            if instance.endpoint == nil { instance = try await provider.instance(named: instance.name) }
            guard let endpoint = instance.endpoint else {
                throw AutoscalerError.provider("\(instance.name) has no known address yet, so it cannot be registered; drop --no-wait")
            }
            try await balancer.register(name: instance.name, address: endpoint)
            logger.info("registered with the load balancer", metadata: ["instance": "\(instance.name)", "address": "\(endpoint)"])
            return instance
        } catch {
            try? await provider.delete(name: instance.name)
            throw error
        }
    }

    /// Removes the named instance, or the newest one the autoscaler created, draining it first.
    ///
    /// Refuses instances the autoscaler did not create before touching the balancer.
    public func scaleDown(name: String?, drainTimeout: Duration) async throws -> Instance {
        let target: Instance
        if let name {
            target = try await provider.instance(named: name)
        } else {
            target = try await provider.newestCreatedInstance()
        }
        guard target.origin == .created else { throw AutoscalerError.notManaged(target.name) }
        if let balancer {
            try await balancer.drain(name: target.name, timeout: drainTimeout)
            logger.info("drained from the load balancer", metadata: ["instance": "\(target.name)"])
        }
        try await provider.delete(name: target.name)
        return target
    }
}
