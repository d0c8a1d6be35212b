import AutoscalerAPI
import Foundation
import Libvirt

extension LibvirtProvider {
    /// A defined clone, not started yet.
    struct DefinedClone {
        let domain: Domain
        let instance: Instance
        let volumes: [StorageVolume]
    }

    /// Clones the template into a new, defined domain; blocking, run on the executor under the
    /// create lock (the name and port it picks are taken once the domain is defined).
    ///
    /// What `virt-clone` does, through the C API: the template's inactive XML with a new name, no
    /// UUID, new MAC addresses, a free forward port and its own disks, plus our metadata, written
    /// before `define` so the mark is never missing. Anything made is removed again on failure.
    func cloneAndDefine(name requested: String?, warm: WarmState?) throws -> DefinedClone {
        let clock = ContinuousClock()
        let began = clock.now
        guard let template = try connection.domainIfExists(named: configuration.template) else {
            throw AutoscalerError.templateMissing(configuration.template)
        }
        if try template.state().isActive { throw AutoscalerError.templateRunning(configuration.template) }

        let domains = try connection.domains()
        let names = Set(domains.map(\.name))
        let name = requested ?? configuration.naming.nextName(notIn: names)
        if names.contains(name) { throw AutoscalerError.nameTaken(name) }

        let xml = try DomainXML(template.inactiveXML())
        xml.name = name
        xml.removeUUID()
        xml.replaceInterfaceMACs(Self.randomMAC)
        if let cmdline = xml.kernelCommandLine {
            xml.kernelCommandLine = Self.replacingInstanceName(in: cmdline, with: name)
        }

        var port: Int?
        var arguments = xml.qemuArguments
        if arguments.contains(where: { $0.contains("hostfwd=") }) {
            let reserved = Set(domains.compactMap { try? $0.metadata(uri: InstanceMetadata.namespace) }.compactMap {
                InstanceMetadata(xml: $0)?.port
            })
            guard let free = PortAllocator.firstFree(in: configuration.forwardPorts, excluding: reserved, host: configuration.forwardHost)
            else { throw AutoscalerError.noFreePort(configuration.forwardPorts) }
            port = free
            arguments = arguments.map {
                Self.replacingForward(in: $0, host: configuration.forwardHost, port: free, guestPort: configuration.guestPort)
            }
            xml.qemuArguments = arguments
        }

        var made: [StorageVolume] = []
        do {
            for disk in xml.disks where disk.needsClone {
                let volume = try cloneDisk(disk, for: name)
                made.append(volume)
                try xml.setDiskSource(target: disk.target, file: volume.path(), format: configuration.diskMode == .overlay ? "qcow2" : disk.format ?? "raw")
            }
            let metadata = InstanceMetadata(
                origin: .created, host: port == nil ? nil : configuration.forwardHost, port: port,
                template: configuration.template, createdAt: Date(), volumes: try made.map { try $0.path() }, warm: warm)
            try xml.setMetadata(metadata.xml, namespace: InstanceMetadata.namespace)

            let domain = try define(xml.xmlString, name: name)
            logger.debug(
                "cloned", metadata: ["instance": "\(name)", "port": "\(port.map(String.init) ?? "-")", "clone_ms": "\((clock.now - began).milliseconds)"])
            let instance = Instance(
                name: name, endpoint: metadata.endpoint, state: .running, origin: .created, createdAt: metadata.createdAt, warm: warm)
            return DefinedClone(domain: domain, instance: instance, volumes: made)
        } catch {
            for volume in made { try? volume.delete() }
            throw error
        }
    }

    /// Starts a defined clone; blocking, outside the create lock, so that the clones of a step
    /// start in parallel (starting qemu takes about 0.5 s, cloning 30 ms). On failure the domain
    /// and its volumes are removed.
    func start(_ clone: DefinedClone) throws -> Instance {
        let clock = ContinuousClock()
        let began = clock.now
        do {
            try clone.domain.start()
        } catch {
            try? clone.domain.undefine()
            for volume in clone.volumes { try? volume.delete() }
            throw error
        }
        logger.info(
            "cloned and started",
            metadata: [
                "instance": "\(clone.instance.name)", "template": "\(configuration.template)",
                "endpoint": "\(clone.instance.endpoint.map { "\($0)" } ?? "-")", "start_ms": "\((clock.now - began).milliseconds)",
            ])
        return clone.instance
    }

    /// Defines the domain, turning libvirt's "already exists" into ``AutoscalerError/nameTaken(_:)``.
    func define(_ xml: String, name: String) throws -> Domain {
        do {
            return try connection.defineDomain(xml: xml)
        } catch {
            if error.code == .domainExists || error.code == .operationFailed && error.message.contains("already") {
                throw AutoscalerError.nameTaken(name)
            }
            throw error
        }
    }

    /// Makes the new instance's copy of one template disk in the same pool.
    func cloneDisk(_ disk: DomainXML.Disk, for name: String) throws -> StorageVolume {
        guard let path = disk.sourceFile else { throw AutoscalerError.provider("disk \(disk.target) has no file") }
        let source: StorageVolume
        do {
            source = try connection.storageVolume(path: path)
        } catch {
            guard error.code == .noStorageVolume else { throw error }
            throw AutoscalerError.provider(
                "template disk \(path) is not in a libvirt storage pool; define a pool for its directory "
                    + "(`virsh pool-define-as NAME dir --target DIR && virsh pool-start NAME`) or run scripts/setup-libvirt.sh")
        }
        let pool = try source.pool()
        let capacity = try source.info().capacity
        let sourceFormat = disk.format ?? "raw"
        switch configuration.diskMode {
        case .overlay:
            let volumeXML = """
                <volume><name>\(name)-\(disk.target).qcow2</name><capacity unit='bytes'>\(capacity)</capacity>\
                <target><format type='qcow2'/></target>\
                <backingStore><path>\(path)</path><format type='\(sourceFormat)'/></backingStore></volume>
                """
            return try pool.createVolume(xml: volumeXML)
        case .copy:
            let suffix = sourceFormat == "qcow2" ? "qcow2" : "img"
            let volumeXML = """
                <volume><name>\(name)-\(disk.target).\(suffix)</name><capacity unit='bytes'>\(capacity)</capacity>\
                <target><format type='\(sourceFormat)'/></target></volume>
                """
            return try pool.createVolume(xml: volumeXML, copying: source)
        }
    }

    /// A random locally administered MAC in qemu's `52:54:00` range, as libvirt and virt-clone use.
    static func randomMAC() -> String {
        var generator = SystemRandomNumberGenerator()
        let tail = (0..<3).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
        return "52:54:00:" + tail.joined(separator: ":")
    }

    /// Points a `-netdev user,…,hostfwd=tcp:H:P-:G` argument at a new host port, and gives a
    /// `-device …,mac=…` argument a new MAC.
    static func replacingForward(in argument: String, host: String, port: Int, guestPort: Int) -> String {
        argument.split(separator: ",", omittingEmptySubsequences: false).map { part -> String in
            if part.hasPrefix("hostfwd=tcp:") { return "hostfwd=tcp:\(host):\(port)-:\(guestPort)" }
            if part.hasPrefix("mac=") { return "mac=\(randomMAC())" }
            return String(part)
        }.joined(separator: ",")
    }

    /// Sets `autoscaler.instance=NAME` on a kernel command line, the way our tiny web VM learns its name.
    static func replacingInstanceName(in cmdline: String, with name: String) -> String {
        var parts = cmdline.split(separator: " ").map(String.init).filter { !$0.hasPrefix("autoscaler.instance=") }
        parts.append("autoscaler.instance=\(name)")
        return parts.joined(separator: " ")
    }
}
