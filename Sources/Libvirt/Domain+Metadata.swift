import CLibvirt

extension Domain {
    /// Which copy of the domain a metadata call reads or changes (`virDomainModificationImpact`).
    public struct ModificationImpact: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// The running domain if it runs, else the persistent config.
        public static let current = ModificationImpact([])
        public static let live = ModificationImpact(rawValue: VIR_DOMAIN_AFFECT_LIVE.rawValue)
        public static let config = ModificationImpact(rawValue: VIR_DOMAIN_AFFECT_CONFIG.rawValue)
    }

    /// Our own XML element under `<metadata>` in namespace `uri`, or nil when there is none.
    public func metadata(uri: String, impact: ModificationImpact = .current) throws(LibvirtError) -> String? {
        let text = virDomainGetMetadata(pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), uri, impact.rawValue)
        guard let text else {
            let error = LibvirtError.last("virDomainGetMetadata")
            if error.code == .noDomainMetadata { return nil }
            throw error
        }
        defer { free(text) }
        return String(cString: text)
    }

    /// Sets (or, with `nil`, removes) our XML element under `<metadata>` in namespace `uri`.
    ///
    /// - Parameters:
    ///   - xml: one element, without namespace prefix; libvirt adds `key` as the prefix.
    ///   - key: the namespace prefix libvirt writes, e.g. `autoscaler`.
    public func setMetadata(
        _ xml: String?, key: String, uri: String, impact: ModificationImpact = .current
    ) throws(LibvirtError) {
        try check(
            virDomainSetMetadata(
                pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), xml, xml == nil ? nil : key, uri, impact.rawValue),
            "virDomainSetMetadata")
    }
}
