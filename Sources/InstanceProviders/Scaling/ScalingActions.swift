import AutoscalerAPI
import Logging

/// The scaling actions, with the balancer kept in step: one path for the scheduler's scale-out,
/// scale-in and repairs and for `scale-up` and `scale-down` by hand.
public struct ScalingActions: Sendable {
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
    /// Any failure after the instance was made (timeout, no address, balancer refused) deletes it
    /// again: nothing half-made is left behind.
    public func add(name: String? = nil, wait: Bool = true, timeout: Duration) async throws -> Instance {
        var instance = wait ? try await provider.createServing(name: name, timeout: timeout) : try await provider.create(name: name)
        guard let balancer else { return instance }
        do {
            if instance.endpoint == nil { instance = try await provider.instance(named: instance.name) }
            guard let endpoint = instance.endpoint else {
                throw AutoscalerError.provider(
                    "\(instance.name) has no known address\(wait ? "" : " yet, so it cannot be registered; drop --no-wait")")
            }
            try await balancer.register(name: instance.name, address: endpoint)
            logger.info("registered with the load balancer", metadata: ["instance": "\(instance.name)", "address": "\(endpoint)"])
            return instance
        } catch {
            try? await provider.delete(name: instance.name)
            throw error
        }
    }

    /// Where a removal failed: an instance whose drain failed is kept (deleting it would fail
    /// requests in flight); one whose delete failed is drained but still exists.
    public enum RemovalFailure: Error {
        case drain(any Error)
        case delete(any Error)

        public var underlying: any Error {
            switch self {
            case .drain(let error), .delete(let error): error
            }
        }
    }

    /// Removes the named instance, or the newest one the autoscaler created (see ``InstanceAge``):
    /// drains it from the balancer, calls `drained`, deletes it. Refuses instances the autoscaler
    /// did not create before touching the balancer. Failures of the drain or the delete are
    /// ``RemovalFailure``s around the cause.
    @discardableResult
    public func remove(
        _ name: String? = nil, drainTimeout: Duration, drained: @Sendable (Instance) -> Void = { _ in }
    ) async throws -> Instance {
        let target = try await drainTarget(name, drainTimeout: drainTimeout, drained: drained)
        do {
            try await provider.delete(name: target.name)
        } catch {
            throw RemovalFailure.delete(error)
        }
        return target
    }

    /// The first half of a scale-in, shared by ``remove(_:drainTimeout:drained:)`` and
    /// ``returnToPool(_:as:drainTimeout:drained:)``: the named instance, or the newest the
    /// autoscaler created; refused unless created (before the balancer is touched); drained.
    func drainTarget(_ name: String?, drainTimeout: Duration, drained: @Sendable (Instance) -> Void) async throws -> Instance {
        let target: Instance
        if let name {
            target = try await provider.instance(named: name)
        } else {
            target = try await provider.newestCreatedInstance()
        }
        guard target.origin == .created else { throw AutoscalerError.notManaged(target.name) }
        if let balancer {
            do {
                try await balancer.drain(name: target.name, timeout: drainTimeout)
            } catch {
                throw RemovalFailure.drain(error)
            }
            logger.info("drained from the load balancer", metadata: ["instance": "\(target.name)"])
            drained(target)
        }
        return target
    }
}
