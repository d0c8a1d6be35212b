import CLibvirt

/// A libvirt domain (a virtual machine), defined or running.
///
/// Holds a reference on the C object, released in `deinit`, and keeps its connection alive.
public final class Domain: @unchecked Sendable {
    let pointer: virDomainPtr
    /// The connection this domain came from; kept so that it outlives the domain.
    public let connection: LibvirtConnection

    init(_ pointer: virDomainPtr, connection: LibvirtConnection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit {
        virDomainFree(pointer)
    }

    /// The domain's name.
    public var name: String {
        virDomainGetName(pointer).map { String(cString: $0) } ?? ""
    }

    /// The domain's UUID in its canonical string form.
    public func uuid() throws(LibvirtError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        try check(virDomainGetUUIDString(pointer, &buffer), "virDomainGetUUIDString")
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The domain's state and libvirt's reason code for it.
    public func state() throws(LibvirtError) -> DomainState {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(pointer, &state, &reason, 0), "virDomainGetState")
        return DomainState(rawValue: state) ?? .noState
    }

    /// Whether the domain is persistent (defined), as opposed to transient.
    public var isPersistent: Bool { virDomainIsPersistent(pointer) == 1 }

    /// Whether the domain is running (or paused): it has a live process.
    public var isActive: Bool { virDomainIsActive(pointer) == 1 }

    /// The domain XML; `flags` pick inactive config, secure details and so on.
    public func xml(_ flags: DomainXMLFlags = []) throws(LibvirtError) -> String {
        try takeString(virDomainGetXMLDesc(pointer, flags.rawValue), "virDomainGetXMLDesc")
    }

    /// The persistent configuration (what the domain boots with next), including secure details.
    public func inactiveXML() throws(LibvirtError) -> String {
        try xml([.inactive, .secure])
    }

    /// The most memory the domain may use, in KiB (`virDomainGetMaxMemory`).
    public func maxMemoryKiB() throws(LibvirtError) -> UInt64 {
        let memory = virDomainGetMaxMemory(pointer)
        if memory == 0 { throw LibvirtError.last("virDomainGetMaxMemory") }
        return UInt64(memory)
    }

    /// Starts a defined domain.
    public func start() throws(LibvirtError) {
        try check(virDomainCreate(pointer), "virDomainCreate")
    }

    /// Asks the guest to shut down (ACPI or agent); returns at once, the guest may ignore it.
    public func shutdown() throws(LibvirtError) {
        try check(virDomainShutdown(pointer), "virDomainShutdown")
    }

    /// Stops the domain at once, like pulling the plug.
    public func destroy() throws(LibvirtError) {
        try check(virDomainDestroy(pointer), "virDomainDestroy")
    }

    /// Pauses the domain's virtual CPUs.
    public func suspend() throws(LibvirtError) {
        try check(virDomainSuspend(pointer), "virDomainSuspend")
    }

    /// Resumes a paused domain.
    public func resume() throws(LibvirtError) {
        try check(virDomainResume(pointer), "virDomainResume")
    }

    /// Saves the domain's memory to a file libvirt manages and stops it; the next ``start()``
    /// restores it from there instead of booting (`virDomainManagedSave`).
    public func managedSave() throws(LibvirtError) {
        try check(virDomainManagedSave(pointer, 0), "virDomainManagedSave")
    }

    /// Whether a managed save image waits to be restored by the next ``start()``.
    public func hasManagedSaveImage() throws(LibvirtError) -> Bool {
        let result = virDomainHasManagedSaveImage(pointer, 0)
        if result < 0 { throw LibvirtError.last("virDomainHasManagedSaveImage") }
        return result == 1
    }

    /// Sets the guest's clock to the host's through the guest agent (`virDomainSetTime`); fails
    /// when the guest has no agent.
    public func setTime(secondsSince1970 seconds: Double) throws(LibvirtError) {
        let whole = seconds.rounded(.down)
        try check(virDomainSetTime(pointer, Int64(whole), UInt32((seconds - whole) * 1e9), 0), "virDomainSetTime")
    }

    /// Removes the domain's definition (its disks are left alone).
    ///
    /// By default also removes managed save images, snapshot and checkpoint metadata and NVRAM, which
    /// otherwise make a plain undefine fail. Drivers that do not know a flag (the test driver does not
    /// know NVRAM) are retried with the flags they accept.
    public func undefine(_ flags: DomainUndefineFlags = .removeEverything) throws(LibvirtError) {
        if virDomainUndefineFlags(pointer, flags.rawValue) == 0 { return }
        let error = LibvirtError.last("virDomainUndefineFlags")
        guard error.code == .invalidArgument || error.code == .noSupport || error.code == .operationUnsupported,
            flags != [.managedSave, .snapshotsMetadata]
        else { throw error }
        try check(
            virDomainUndefineFlags(pointer, DomainUndefineFlags([.managedSave, .snapshotsMetadata]).rawValue),
            "virDomainUndefineFlags")
    }

    /// IP addresses of the domain's interfaces, from the DHCP leases of libvirt networks by default,
    /// or from the guest agent or the ARP table.
    public func interfaceAddresses(source: InterfaceAddressSource = .lease) throws(LibvirtError) -> [InterfaceAddress] {
        var interfaces: UnsafeMutablePointer<virDomainInterfacePtr?>?
        let count = virDomainInterfaceAddresses(pointer, &interfaces, source.rawValue, 0)
        try check(count, "virDomainInterfaceAddresses")
        guard let interfaces else { return [] }
        defer {
            for index in 0..<Int(count) { virDomainInterfaceFree(interfaces[index]) }
            free(interfaces)
        }
        var result: [InterfaceAddress] = []
        for index in 0..<Int(count) {
            guard let interface = interfaces[index]?.pointee else { continue }
            let name = interface.name.map { String(cString: $0) } ?? ""
            let mac = interface.hwaddr.map { String(cString: $0) }
            for addressIndex in 0..<Int(interface.naddrs) {
                let address = interface.addrs[addressIndex]
                guard let text = address.addr else { continue }
                result.append(
                    InterfaceAddress(
                        interface: name, mac: mac, address: String(cString: text),
                        isIPv6: address.type == Int32(VIR_IP_ADDR_TYPE_IPV6.rawValue), prefix: Int(address.prefix)))
            }
        }
        return result
    }
}

/// Flags for ``Domain/xml(_:)`` (`virDomainXMLFlags`).
public struct DomainXMLFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let secure = DomainXMLFlags(rawValue: VIR_DOMAIN_XML_SECURE.rawValue)
    public static let inactive = DomainXMLFlags(rawValue: VIR_DOMAIN_XML_INACTIVE.rawValue)
    public static let updateCPU = DomainXMLFlags(rawValue: VIR_DOMAIN_XML_UPDATE_CPU.rawValue)
    public static let migratable = DomainXMLFlags(rawValue: VIR_DOMAIN_XML_MIGRATABLE.rawValue)
}

/// Flags for ``Domain/undefine(_:)`` (`virDomainUndefineFlagsValues`).
public struct DomainUndefineFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let managedSave = DomainUndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue)
    public static let snapshotsMetadata = DomainUndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue)
    public static let nvram = DomainUndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_NVRAM.rawValue)
    public static let checkpointsMetadata = DomainUndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue)

    /// Everything that would otherwise block the undefine or be left behind.
    public static let removeEverything: DomainUndefineFlags = [.managedSave, .snapshotsMetadata, .nvram, .checkpointsMetadata]
}

/// Where ``Domain/interfaceAddresses(source:)`` looks.
public enum InterfaceAddressSource: UInt32, Sendable {
    case lease = 0
    case agent = 1
    case arp = 2
}

/// One IP address of a domain's network interface.
public struct InterfaceAddress: Sendable, Hashable {
    public let interface: String
    public let mac: String?
    public let address: String
    public let isIPv6: Bool
    public let prefix: Int
}
