import NIOSSL

extension LoadBalancer {
    /// The TLS server context for `files`: the PEM certificate chain and key, TLS 1.2 and up, ALPN
    /// `http/1.1` (the proxy speaks HTTP/1.1 only, so a client offering h2 falls back to it).
    /// Throws a readable error when a file is missing or does not parse, or the key does not
    /// match the certificate.
    public static func makeTLSContext(_ files: TLSFiles) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        } catch {
            throw TLSSetupError("cannot read the certificate \(files.certificate): \(error)")
        }
        guard !chain.isEmpty else { throw TLSSetupError("no certificate in \(files.certificate)") }
        do {
            key = try NIOSSLPrivateKey(file: files.key, format: .pem)
        } catch {
            throw TLSSetupError("cannot read the key \(files.key): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("cannot use \(files.certificate) with \(files.key): \(error)")
        }
    }

    /// Why TLS cannot be set up, in one line.
    public struct TLSSetupError: Error, CustomStringConvertible {
        public let description: String

        init(_ description: String) {
            self.description = description
        }
    }
}
