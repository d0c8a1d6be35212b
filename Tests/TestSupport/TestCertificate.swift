import Foundation

/// A self-signed certificate made by the `openssl` command, for `localhost` and 127.0.0.1.
public struct TestCertificate: Sendable {
    public let certificate: String
    public let key: String

    /// Writes `NAME.pem` and `NAME.key` in `directory`, the subject's common name `name`.
    public static func make(in directory: String, name: String) async throws -> TestCertificate {
        let certificate = "\(directory)/\(name).pem"
        let key = "\(directory)/\(name).key"
        let result = try await CommandRunner.runTool(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", certificate,
            ])
        guard result.status == 0 else { throw CommandRunner.Failure("openssl req failed: \(result.stderr)") }
        return TestCertificate(certificate: certificate, key: key)
    }
}
