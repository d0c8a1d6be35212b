import Foundation
import Libvirt

/// Helpers for libvirt's `test:///default` driver: real libvirt with a simulated hypervisor.
///
/// Its state lives in the process while a connection is open and starts with one running domain,
/// `test`, and a pool `default-pool` at `/default-pool`. Names are made unique per test because
/// tests run in parallel against the same state.
enum TestDriver {
    static let uri = "test:///default"

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func domainXML(name: String, disk: String? = nil, mac: String = "52:54:00:aa:bb:cc") -> String {
        let diskXML = disk.map {
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\($0)'/><target dev='vda' bus='virtio'/></disk>"
        } ?? ""
        return """
            <domain type='test'>
              <name>\(name)</name>
              <memory unit='MiB'>64</memory>
              <os><type arch='x86_64'>hvm</type></os>
              <devices>\(diskXML)<interface type='user'><mac address='\(mac)'/></interface></devices>
            </domain>
            """
    }

    static func volumeXML(name: String, bytes: Int = 1 << 20) -> String {
        "<volume><name>\(name)</name><capacity unit='bytes'>\(bytes)</capacity></volume>"
    }
}
