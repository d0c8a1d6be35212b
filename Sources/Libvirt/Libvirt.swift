import CLibvirt

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide libvirt set-up.
public enum Libvirt {
    /// Initializes libvirt once and silences its default error printer.
    ///
    /// libvirt prints every error to stderr unless a handler is set; we report errors ourselves as
    /// ``LibvirtError``, so the handler does nothing. `virInitialize` makes later use from several
    /// threads safe. Both are idempotent, and every ``LibvirtConnection`` calls this.
    public static func initialize() {
        _ = initialized
    }

    private static let initialized: Bool = {
        virSetErrorFunc(nil) { _, _ in }
        return virInitialize() == 0
    }()

    /// Runs libvirt's default event loop on a thread of its own, once per process.
    ///
    /// Keepalive needs it: without a running loop libvirt sends no keepalive probes, and a call to
    /// a daemon that hangs (stopped, or its host gone without a reset) waits forever. Call it before
    /// opening the connections that should have keepalive; it is what virsh does.
    public static func startEventLoop() {
        _ = eventLoopStarted
    }

    private static let eventLoopStarted: Bool = {
        initialize()
        guard virEventRegisterDefaultImpl() == 0 else { return false }
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { _ in
            while true {
                // A failing iteration returns at once: pause rather than spin.
                if virEventRunDefaultImpl() < 0 { usleep(100_000) }
            }
        }, nil)
        guard created == 0 else { return false }
        pthread_detach(thread)
        return true
    }()

    /// The version of the libvirt library, e.g. `9.0.0`.
    public static var libraryVersion: String {
        var version: UInt = 0
        guard virGetVersion(&version, nil, nil) == 0 else { return "unknown" }
        return "\(version / 1_000_000).\(version / 1_000 % 1_000).\(version % 1_000)"
    }
}
