import CLibvirt

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

    /// The version of the libvirt library, e.g. `9.0.0`.
    public static var libraryVersion: String {
        var version: UInt = 0
        guard virGetVersion(&version, nil, nil) == 0 else { return "unknown" }
        return "\(version / 1_000_000).\(version / 1_000 % 1_000).\(version % 1_000)"
    }
}
