import CLibvirt

/// A failed libvirt call, captured from libvirt's thread-local last error right after the call.
///
/// libvirt keeps the last error per thread, so it must be read on the thread that made the call and
/// before any other libvirt call on it; ``LibvirtError/last(_:)`` does exactly that and resets it.
public struct LibvirtError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The libvirt error number (`virErrorNumber`), e.g. ``Code/noDomain``.
    public let code: Code
    /// The libvirt subsystem that raised it (`virErrorDomain`), e.g. `VIR_FROM_RPC`.
    public let domain: Int32
    /// libvirt's own message, or a description of the call when libvirt left none.
    public let message: String
    /// The C function that failed, to tell apart errors with the same code.
    public let operation: String

    public init(code: Code, domain: Int32, message: String, operation: String) {
        self.code = code
        self.domain = domain
        self.message = message
        self.operation = operation
    }

    public var description: String { message }

    /// Reads and clears the calling thread's last libvirt error.
    ///
    /// Call it right after the failing call, on the same thread.
    /// The thread's last error, if libvirt set one (for calls whose failure value is also a
    /// valid result, like 0 bytes free).
    public static func lastIfAny(_ operation: String) -> LibvirtError? {
        virGetLastError() == nil ? nil : last(operation)
    }

    public static func last(_ operation: String) -> LibvirtError {
        guard let error = virGetLastError() else {
            return LibvirtError(code: .unknown, domain: 0, message: "\(operation) failed", operation: operation)
        }
        let message = error.pointee.message.map { String(cString: $0) } ?? "\(operation) failed"
        let result = LibvirtError(
            code: Code(rawValue: error.pointee.code),
            domain: error.pointee.domain,
            message: message,
            operation: operation
        )
        virResetLastError()
        return result
    }

    /// True when libvirt could not reach its daemon (socket missing, refused, or no driver).
    public var isConnectionFailure: Bool {
        code == .noConnect || code == .systemError && Int(domain) == Int(VIR_FROM_RPC.rawValue)
            || operation == "virConnectOpen"
    }
}

extension LibvirtError {
    /// A libvirt error number; the common ones have names.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ number: virErrorNumber) { self.rawValue = Int32(number.rawValue) }

        public static let unknown = Code(rawValue: -1)
        public static let internalError = Code(VIR_ERR_INTERNAL_ERROR)
        public static let noSupport = Code(VIR_ERR_NO_SUPPORT)
        public static let noConnect = Code(VIR_ERR_NO_CONNECT)
        public static let systemError = Code(VIR_ERR_SYSTEM_ERROR)
        public static let invalidArgument = Code(VIR_ERR_INVALID_ARG)
        public static let operationFailed = Code(VIR_ERR_OPERATION_FAILED)
        public static let operationInvalid = Code(VIR_ERR_OPERATION_INVALID)
        public static let operationUnsupported = Code(VIR_ERR_OPERATION_UNSUPPORTED)
        public static let operationDenied = Code(VIR_ERR_OPERATION_DENIED)
        public static let xmlError = Code(VIR_ERR_XML_ERROR)
        public static let xmlDetail = Code(VIR_ERR_XML_DETAIL)
        public static let noDomain = Code(VIR_ERR_NO_DOMAIN)
        public static let noStoragePool = Code(VIR_ERR_NO_STORAGE_POOL)
        public static let noStorageVolume = Code(VIR_ERR_NO_STORAGE_VOL)
        public static let domainExists = Code(VIR_ERR_DOM_EXIST)
        public static let storageVolumeExists = Code(VIR_ERR_STORAGE_VOL_EXIST)
        public static let noDomainMetadata = Code(VIR_ERR_NO_DOMAIN_METADATA)
        public static let agentUnresponsive = Code(VIR_ERR_AGENT_UNRESPONSIVE)

        public var description: String { "\(rawValue)" }
    }
}

/// Checks a libvirt status code (`-1` is failure) and turns failure into a ``LibvirtError``.
@inline(__always)
func check(_ result: Int32, _ operation: String) throws(LibvirtError) {
    if result < 0 { throw LibvirtError.last(operation) }
}

/// Unwraps a libvirt pointer result and turns `NULL` into a ``LibvirtError``.
@inline(__always)
func check<P>(_ pointer: P?, _ operation: String) throws(LibvirtError) -> P {
    guard let pointer else { throw LibvirtError.last(operation) }
    return pointer
}

/// Takes ownership of a `malloc`ed C string returned by libvirt: copies it and frees it.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?, _ operation: String) throws(LibvirtError) -> String {
    let pointer = try check(pointer, operation)
    defer { free(pointer) }
    return String(cString: pointer)
}
