import CLibvirt

/// A storage pool: a place (a directory, an LVM group…) where volumes are created.
public final class StoragePool: @unchecked Sendable {
    let pointer: virStoragePoolPtr
    public let connection: LibvirtConnection

    init(_ pointer: virStoragePoolPtr, connection: LibvirtConnection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit {
        virStoragePoolFree(pointer)
    }

    /// The pool's name.
    public var name: String {
        virStoragePoolGetName(pointer).map { String(cString: $0) } ?? ""
    }

    /// Re-reads the pool's contents, so that files made outside libvirt become volumes.
    public func refresh() throws(LibvirtError) {
        try check(virStoragePoolRefresh(pointer, 0), "virStoragePoolRefresh")
    }

    /// Creates a volume from XML, e.g. an empty image or a qcow2 overlay with a `<backingStore>`.
    public func createVolume(xml: String) throws(LibvirtError) -> StorageVolume {
        StorageVolume(try check(virStorageVolCreateXML(pointer, xml, 0), "virStorageVolCreateXML"), connection: connection)
    }

    /// Creates a volume from XML as a full copy of `source`.
    public func createVolume(xml: String, copying source: StorageVolume) throws(LibvirtError) -> StorageVolume {
        StorageVolume(
            try check(virStorageVolCreateXMLFrom(pointer, xml, source.pointer, 0), "virStorageVolCreateXMLFrom"),
            connection: connection)
    }

    /// Looks up a volume of this pool by name.
    public func volume(named name: String) throws(LibvirtError) -> StorageVolume {
        StorageVolume(try check(virStorageVolLookupByName(pointer, name), "virStorageVolLookupByName"), connection: connection)
    }
}
