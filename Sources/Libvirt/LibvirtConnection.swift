import CLibvirt

/// An open connection to a libvirt driver, e.g. `qemu:///system` or `test:///default`.
///
/// Every call blocks on libvirt's RPC; run them through a ``BlockingExecutor``, never on an event
/// loop or Swift's cooperative pool. libvirt connections are thread-safe, hence `@unchecked Sendable`.
public final class LibvirtConnection: @unchecked Sendable {
    let pointer: virConnectPtr
    /// The URI that was asked for.
    public let uri: String
    /// Whether the connection was opened read-only (no defining, starting or deleting).
    public let isReadOnly: Bool

    /// Opens a connection.
    /// - Parameters:
    ///   - uri: a libvirt URI such as `qemu:///system`, `qemu+ssh://host/system` or `test:///default`.
    ///   - readOnly: open with `virConnectOpenReadOnly`, which works without write access to the daemon.
    public init(uri: String, readOnly: Bool = false) throws(LibvirtError) {
        Libvirt.initialize()
        let opened = readOnly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri)
        self.pointer = try check(opened, "virConnectOpen")
        self.uri = uri
        self.isReadOnly = readOnly
    }

    deinit {
        virConnectClose(pointer)
    }

    /// The canonical URI libvirt reports for this connection.
    public func canonicalURI() throws(LibvirtError) -> String {
        try takeString(virConnectGetURI(pointer), "virConnectGetURI")
    }

    /// Whether the connection is still usable (the daemon did not go away).
    public var isAlive: Bool { virConnectIsAlive(pointer) == 1 }

    /// Turns on keepalive: a probe every `interval` seconds, and the connection closed after
    /// `count` unanswered ones, which fails the calls waiting on it. Needs a running event loop
    /// (``Libvirt/startEventLoop()``). False where there is none (the test driver, a daemon
    /// without keepalive).
    @discardableResult
    public func setKeepAlive(interval: Int32, count: UInt32) -> Bool {
        virConnectSetKeepAlive(pointer, interval, count) == 0
    }

    /// The host's free memory in bytes (`virNodeGetFreeMemory`).
    public func freeMemory() throws(LibvirtError) -> UInt64 {
        let free = virNodeGetFreeMemory(pointer)
        if free == 0, let error = LibvirtError.lastIfAny("virNodeGetFreeMemory") { throw error }
        return free
    }

    // MARK: Domains

    /// Looks up a domain by name; throws ``LibvirtError/Code/noDomain`` when there is none.
    public func domain(named name: String) throws(LibvirtError) -> Domain {
        Domain(try check(virDomainLookupByName(pointer, name), "virDomainLookupByName"), connection: self)
    }

    /// Looks up a domain by its UUID string.
    public func domain(uuid: String) throws(LibvirtError) -> Domain {
        Domain(try check(virDomainLookupByUUIDString(pointer, uuid), "virDomainLookupByUUIDString"), connection: self)
    }

    /// Looks up a domain by name and returns nil when it does not exist.
    public func domainIfExists(named name: String) throws(LibvirtError) -> Domain? {
        do {
            return try domain(named: name)
        } catch where error.code == .noDomain {
            return nil
        }
    }

    /// Lists domains; `flags` filter them (default: all, active and inactive).
    public func domains(_ flags: DomainListFlags = []) throws(LibvirtError) -> [Domain] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let count = virConnectListAllDomains(pointer, &list, flags.rawValue)
        try check(count, "virConnectListAllDomains")
        guard let list else { return [] }
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            list[index].map { Domain($0, connection: self) }
        }
    }

    /// Defines (but does not start) a persistent domain from XML.
    public func defineDomain(xml: String) throws(LibvirtError) -> Domain {
        Domain(try check(virDomainDefineXML(pointer, xml), "virDomainDefineXML"), connection: self)
    }

    // MARK: Storage

    /// Looks up a storage volume by its path; the file must belong to a (refreshed) storage pool.
    public func storageVolume(path: String) throws(LibvirtError) -> StorageVolume {
        StorageVolume(try check(virStorageVolLookupByPath(pointer, path), "virStorageVolLookupByPath"), connection: self)
    }

    /// Looks up a storage pool by name.
    public func storagePool(named name: String) throws(LibvirtError) -> StoragePool {
        StoragePool(try check(virStoragePoolLookupByName(pointer, name), "virStoragePoolLookupByName"), connection: self)
    }
}

/// Filters for ``LibvirtConnection/domains(_:)`` (`virConnectListAllDomainsFlags`).
public struct DomainListFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let active = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue)
    public static let inactive = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_INACTIVE.rawValue)
    public static let persistent = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_PERSISTENT.rawValue)
    public static let transient = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_TRANSIENT.rawValue)
    public static let running = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_RUNNING.rawValue)
    public static let paused = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_PAUSED.rawValue)
    public static let shutoff = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_SHUTOFF.rawValue)
}
