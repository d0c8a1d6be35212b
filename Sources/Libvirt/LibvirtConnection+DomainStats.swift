import CLibvirt

/// One running domain's CPU counters, as `virConnectGetAllDomainStats` reports them.
public struct DomainCPUStats: Sendable, Equatable {
    public var name: String
    /// CPU time the domain has used since it started (`cpu.time`, nanoseconds).
    public var cpuTime: UInt64
    /// Virtual CPUs online now (`vcpu.current`, else the domain's count from `virDomainGetInfo`).
    public var vcpus: Int

    public init(name: String, cpuTime: UInt64, vcpus: Int) {
        self.name = name
        self.cpuTime = cpuTime
        self.vcpus = vcpus
    }
}

extension LibvirtConnection {
    /// The CPU time and vCPU count of every running domain, in one call
    /// (`virConnectGetAllDomainStats` with the `cpu-total` and `vcpu` groups): one round trip per
    /// scheduler tick whatever the number of domains, where a call per domain would be one each.
    /// A domain that stops meanwhile is left out, not an error.
    ///
    /// A driver that does not report the `cpu-total` group in bulk (the test driver reports only
    /// `state`) is asked per domain with `virDomainGetInfo`, which every driver has.
    public func cpuStats() throws(LibvirtError) -> [DomainCPUStats] {
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
        let groups = VIR_DOMAIN_STATS_CPU_TOTAL.rawValue | VIR_DOMAIN_STATS_VCPU.rawValue
        let flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE.rawValue | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT.rawValue
        var count = virConnectGetAllDomainStats(pointer, groups, &records, flags)
        if count < 0 {
            // Read once: reading libvirt's last error resets it.
            let error = LibvirtError.last("virConnectGetAllDomainStats")
            // NOWAIT is libvirt ≥ 4.5; an older daemon refuses the flag.
            guard error.code == .invalidArgument else { throw error }
            count = virConnectGetAllDomainStats(pointer, groups, &records, VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE.rawValue)
            try check(count, "virConnectGetAllDomainStats")
        }
        guard let records else { return [] }
        defer { virDomainStatsRecordListFree(records) }
        var result: [DomainCPUStats] = []
        result.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let record = records[index]?.pointee, let name = virDomainGetName(record.dom) else { continue }
            var cpuTime: UInt64 = 0
            var vcpus: UInt32 = 0
            let bulk = virTypedParamsGetULLong(record.params, record.nparams, "cpu.time", &cpuTime) == 1
            if !bulk || virTypedParamsGetUInt(record.params, record.nparams, "vcpu.current", &vcpus) != 1 {
                // What the bulk call did not give, from the domain itself.
                var info = virDomainInfo()
                guard virDomainGetInfo(record.dom, &info) == 0 else { continue }
                if !bulk { cpuTime = UInt64(info.cpuTime) }
                vcpus = UInt32(info.nrVirtCpu)
            }
            result.append(DomainCPUStats(name: String(cString: name), cpuTime: cpuTime, vcpus: Int(vcpus)))
        }
        return result
    }
}
