import Logging

/// Which kind of instances to manage.
public enum ProviderKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// libvirt when its URI connects and the template exists, else processes.
    case auto
    case libvirt
    case process
}

/// Builds the provider a command asked for.
public enum ProviderFactory {
    /// Makes the provider for `kind`; `auto` tries libvirt and falls back to processes, logging why.
    public static func make(
        _ kind: ProviderKind, libvirt: LibvirtProvider.Configuration, process: ProcessProvider.Configuration, logger: Logger
    ) async throws -> any InstanceProvider {
        switch kind {
        case .libvirt:
            return try await LibvirtProvider(configuration: libvirt, logger: logger)
        case .process:
            return try ProcessProvider(configuration: process, logger: logger)
        case .auto:
            do {
                let provider = try await LibvirtProvider(configuration: libvirt, logger: logger)
                if try await provider.templateExists() {
                    logger.info("provider: libvirt (\(libvirt.uri) connects and template \(libvirt.template) exists)")
                    return provider
                }
                logger.info("provider: process (libvirt at \(libvirt.uri) has no template \(libvirt.template))")
            } catch {
                logger.info("provider: process (libvirt unavailable: \(error))")
            }
            return try ProcessProvider(configuration: process, logger: logger)
        }
    }
}
