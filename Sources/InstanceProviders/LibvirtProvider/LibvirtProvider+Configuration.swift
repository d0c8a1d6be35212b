import AutoscalerAPI

extension LibvirtProvider {
    /// Settings of the libvirt provider.
    ///
    /// Defaults mirror the original project: URI `qemu:///system`, template
    /// `ubuntu20.04-3_webTemplate`, new names `web_vm<N>`, `web_vm1` and `web_vm2` adopted as found
    /// VMs even without our metadata, forward ports 18081–18999 on 127.0.0.1 to guest port 80, disks
    /// cloned as qcow2 overlays.
    public struct Configuration: Sendable, Hashable {
        public var uri: String
        public var template: String
        public var naming: InstanceNaming
        /// Domains served as found instances although they carry no metadata of ours.
        public var adopt: [String]
        /// Host side of user-mode port forwards.
        public var forwardHost: String
        public var forwardPorts: ClosedRange<Int>
        /// The guest's HTTP port, used for forwards and for address-based endpoints.
        public var guestPort: Int
        public var diskMode: DiskMode
        /// How long a delete waits for a guest on a network (one without a loopback forward) to
        /// power off after an ACPI shutdown before it destroys it (default 10 s; zero destroys at
        /// once). A guest that stops cleanly releases its DHCP lease; one destroyed keeps its
        /// address taken until the lease expires. A guest behind a forward is destroyed at once:
        /// nothing outside the VM holds anything for it.
        public var shutdownGrace: Duration
        /// Keepalive of the connection: a probe every `keepAliveInterval` seconds (default 5), the
        /// connection given up after `keepAliveCount` (default 3) unanswered, so that a call to a
        /// daemon that hangs fails after about 20 s instead of waiting forever. Zero turns it off.
        public var keepAliveInterval: Int32 = 5
        public var keepAliveCount: UInt32 = 3

        public init(
            uri: String = "qemu:///system",
            template: String = "ubuntu20.04-3_webTemplate",
            naming: InstanceNaming = InstanceNaming(),
            adopt: [String] = ["web_vm1", "web_vm2"],
            forwardHost: String = "127.0.0.1",
            forwardPorts: ClosedRange<Int> = 18081...18999,
            guestPort: Int = 80,
            diskMode: DiskMode = .overlay,
            shutdownGrace: Duration = .seconds(10)
        ) {
            self.uri = uri
            self.template = template
            self.naming = naming
            self.adopt = adopt
            self.forwardHost = forwardHost
            self.forwardPorts = forwardPorts
            self.guestPort = guestPort
            self.diskMode = diskMode
            self.shutdownGrace = shutdownGrace
        }
    }

    /// How a clone gets its disks.
    public enum DiskMode: String, Sendable, Hashable, CaseIterable {
        /// A qcow2 overlay backed by the template's disk: instant, small, template must stay put.
        case overlay
        /// A full copy of each disk, independent of the template.
        case copy
    }
}
