import AutoscalerAPI
import Foundation
import Libvirt

extension LibvirtProvider {
    /// Two marks, in two steps: `warm` first (a scheduler killed before the hold finds a member,
    /// not a paused instance nobody claims), `held` only once the suspend or save completed (a
    /// member starting, or being saved, is never taken for a held one).
    public func hold(name: String, as state: WarmState) async throws {
        try await executor.run { [self] in
            let domain = try managedDomain(named: name)
            var metadata = try createdMetadata(of: domain)
            metadata.warm = state
            metadata.held = false
            try write(metadata, to: domain)
            switch state {
            case .paused:
                if try domain.state() != .paused { try domain.suspend() }
            case .saved:
                if domain.isActive { try domain.managedSave() }
                guard try domain.hasManagedSaveImage() else { throw AutoscalerError.provider("\(name) has no managed save image after saving") }
            }
            metadata.held = true
            try write(metadata, to: domain)
            logger.info("held in the warm pool", metadata: ["instance": "\(name)", "state": "\(state.rawValue)"])
        }
    }

    public func release(name: String) async throws -> Instance {
        let released = try await executor.run { [self] in
            let domain = try managedDomain(named: name)
            var metadata = try createdMetadata(of: domain)
            let clock = ContinuousClock()
            let began = clock.now
            switch try domain.state() {
            case .paused, .pmSuspended: try domain.resume()
            case .shutOff, .crashed, .noState: try domain.start()  // restores the managed save image if there is one
            case .running, .blocked, .shuttingDown: break
            }
            // A domain saved while paused comes back paused.
            if try domain.state() == .paused { try domain.resume() }
            metadata.warm = nil
            metadata.held = false
            try write(metadata, to: domain)
            logger.info(
                "released from the warm pool", metadata: ["instance": "\(name)", "ms": "\((clock.now - began).milliseconds)"])
            guard let instance = try instance(of: domain) else { throw AutoscalerError.notManaged(name) }
            return instance
        }
        // Paused or saved, the guest's clock stopped. Only a guest agent can set it, and an agent
        // channel without an agent answering can hold the call for seconds: not on the way to
        // serving. The tiny VM has no agent (its clock stays behind; its httpd does not care).
        if !isSimulated {
            Task { [self] in
                do {
                    try await executor.run { [self] in
                        try managedDomain(named: name).setTime(secondsSince1970: Date().timeIntervalSince1970)
                    }
                } catch {
                    logger.debug("guest clock not set (no guest agent)", metadata: ["instance": "\(name)", "error": "\(error)"])
                }
            }
        }
        return released
    }

    /// Rewrites our metadata, in the running domain and in its persistent definition (a saved
    /// domain stops, and then only the definition's copy is left).
    func write(_ metadata: InstanceMetadata, to domain: Domain) throws {
        let impact: Domain.ModificationImpact = domain.isActive ? [.live, .config] : .config
        try domain.setMetadata(metadata.bareXML, key: InstanceMetadata.prefix, uri: InstanceMetadata.namespace, impact: impact)
    }
}
