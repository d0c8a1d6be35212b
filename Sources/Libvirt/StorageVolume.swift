import CLibvirt

/// A storage volume (a disk image file in a pool).
public final class StorageVolume: @unchecked Sendable {
    let pointer: virStorageVolPtr
    public let connection: LibvirtConnection

    init(_ pointer: virStorageVolPtr, connection: LibvirtConnection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit {
        virStorageVolFree(pointer)
    }

    /// The volume's name within its pool.
    public var name: String {
        virStorageVolGetName(pointer).map { String(cString: $0) } ?? ""
    }

    /// The volume's path, the same one a domain's `<source file=…>` names.
    public func path() throws(LibvirtError) -> String {
        try takeString(virStorageVolGetPath(pointer), "virStorageVolGetPath")
    }

    /// The volume's XML description.
    public func xml() throws(LibvirtError) -> String {
        try takeString(virStorageVolGetXMLDesc(pointer, 0), "virStorageVolGetXMLDesc")
    }

    /// The volume's virtual size (capacity) and allocated bytes.
    public func info() throws(LibvirtError) -> (capacity: UInt64, allocation: UInt64) {
        var info = virStorageVolInfo()
        try check(virStorageVolGetInfo(pointer, &info), "virStorageVolGetInfo")
        return (UInt64(info.capacity), UInt64(info.allocation))
    }

    /// The pool this volume lives in.
    public func pool() throws(LibvirtError) -> StoragePool {
        StoragePool(try check(virStoragePoolLookupByVolume(pointer), "virStoragePoolLookupByVolume"), connection: connection)
    }

    /// Deletes the volume and its data.
    public func delete() throws(LibvirtError) {
        try check(virStorageVolDelete(pointer, 0), "virStorageVolDelete")
    }
}
