import AutoscalerAPI
import Foundation
import Libvirt

extension LibvirtProvider {
    public func hold(name: String, as state: WarmState) async throws {
        try await executor.run { [self] in
            let domain = try managedDomain(named: name)
            var metadata = try createdMetadata(of: domain)
            // The mark first: a scheduler killed between the two finds a running member, which
            // `release` takes as it is, rather than a paused instance nobody claims.
            metadata.warm = state
            try write(metadata, to: domain)
            switch state {
            case .paused:
                if try domain.state() != .paused { try domain.suspend() }
            case .saved:
                if domain.isActive { try domain.managedSave() }
            }
            logger.info("held in the warm pool", metadata: ["instance": "\(name)", "state": "\(state.rawValue)"])
        }
    }

    public func release(name: String) async throws -> Instance {
        try await executor.run { [self] in
            let domain = try managedDomain(named: name)
            var metadata = try createdMetadata(of: domain)
            let clock = ContinuousClock()
            let began = clock.now
            switch try domain.state() {
            case .paused, .pmSuspended: try domain.resume()
            case .shutOff, .crashed, .noState: try domain.start()  // restores the managed save image if there is one
            case .running, .blocked, .shuttingDown: break
            }
            // Paused or saved, the guest's clock stopped. Only a guest agent can set it; the tiny
            // VM has none (its clock catches up from the host's kvmclock/TSC on its own).
            if !isSimulated {
                do {
                    try domain.setTime(secondsSince1970: Date().timeIntervalSince1970)
                } catch {
                    logger.debug("guest clock not set (no guest agent)", metadata: ["instance": "\(name)", "error": "\(error)"])
                }
            }
            metadata.warm = nil
            try write(metadata, to: domain)
            logger.info(
                "released from the warm pool", metadata: ["instance": "\(name)", "ms": "\((clock.now - began).milliseconds)"])
            guard let instance = try instance(of: domain) else { throw AutoscalerError.notManaged(name) }
            return instance
        }
    }

    /// Rewrites our metadata, in the running domain and in its persistent definition (a saved
    /// domain stops, and then only the definition's copy is left).
    func write(_ metadata: InstanceMetadata, to domain: Domain) throws {
        let impact: Domain.ModificationImpact = domain.isActive ? [.live, .config] : .config
        try domain.setMetadata(metadata.bareXML, key: InstanceMetadata.prefix, uri: InstanceMetadata.namespace, impact: impact)
    }
}
