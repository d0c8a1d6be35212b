import Foundation
import LoadBalancer
import TestSupport
import Testing

@Suite("loadbalancer TLS")
struct TLSTests {
    static func temporaryDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// What `openssl s_client` saw of a handshake with 127.0.0.1:`port` (its output, and the
    /// certificate's subject line).
    static func handshake(_ port: Int, _ options: [String]) async throws -> String {
        let result = try await CommandRunner.runTool(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"] + options)
        return result.stdout + result.stderr
    }

    /// curl over TLS, trusting the test's certificate; "status body" or the error.
    static func curl(_ url: String, certificate: String) async throws -> String {
        let result = try await CommandRunner.runTool(
            "/usr/bin/curl", ["-sS", "--max-time", "5", "--cacert", certificate, "-o", "-", "-w", " %{http_code}", url])
        return result.stdout + result.stderr
    }

    /// TLS 1.2 and up with ALPN http/1.1, curl trusting the certificate, X-Forwarded-Proto https
    /// to the backend, TLS 1.1 refused, and the redirect port answering 308 to the https URL.
    @Test func servesTLSAndRedirects() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = try await TestCertificate.make(in: directory, name: "localhost")
        let ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        try await BalancerHarness.withScriptedBackend(
            configure: {
                $0.tls = .init(certificate: certificate.certificate, key: certificate.key)
                $0.redirectHTTPPort = 0
            },
            { _ in [.send(ok)] }
        ) { lb, backend in
            let port = lb.proxyPort
            #expect(try await Self.curl("https://localhost:\(port)/a?b=1", certificate: certificate.certificate) == "hello 200")
            #expect(backend.requests.last?.head.contains("X-Forwarded-Proto: https") == true, "\(backend.requests.last?.head ?? "")")
            let tls12 = try await Self.handshake(port, ["-tls1_2", "-alpn", "h2,http/1.1"])
            #expect(tls12.contains("ALPN protocol: http/1.1") && tls12.contains("Protocol  : TLSv1.2"), "\(tls12)")
            let tls13 = try await Self.handshake(port, ["-tls1_3"])
            #expect(tls13.contains("TLSv1.3"), "\(tls13)")
            let tls11 = try await Self.handshake(port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
            #expect(tls11.contains("Cipher is (NONE)") && tls11.contains("no peer certificate available"), "TLS 1.1 must be refused: \(tls11)")
            // Plain HTTP on the TLS port is not answered as HTTP.
            let plain = try await RawHTTP.exchange(port: port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(!plain.hasPrefix("HTTP/1.1 200"))
            let redirectPort = try #require(lb.balancer.redirectPort)
            let redirected = try await RawHTTP.exchange(port: redirectPort, "POST /x?y=1 HTTP/1.1\r\nHost: localhost:8080\r\nContent-Length: 0\r\n\r\n")
            #expect(redirected.hasPrefix("HTTP/1.1 308 Permanent Redirect\r\n"), "\(redirected)")
            #expect(redirected.contains("Location: https://localhost:\(port)/x?y=1\r\n"), "\(redirected)")
        }
    }

    @Test func redirectLocations() {
        func location(_ host: String?, _ port: Int, _ target: String) -> String {
            RedirectServer.location(host: host, fallbackHost: "127.0.0.1", httpsPort: port, target: target)
        }
        #expect(location("example.org", 443, "/a") == "https://example.org/a")
        #expect(location("example.org:80", 8443, "/a?b") == "https://example.org:8443/a?b")
        #expect(location("[::1]:80", 443, "/") == "https://[::1]/")
        #expect(location(nil, 443, "*") == "https://127.0.0.1/")
        #expect(location("evil.com/x?", 8443, "/a") == "https://127.0.0.1:8443/a", "a Host that is not a plain name is not trusted")
        #expect(location("a b", 443, "/") == "https://127.0.0.1/")
        #expect(RedirectServer.location(host: nil, fallbackHost: "::1", httpsPort: 443, target: "/") == "https://[::1]/")
    }

    /// SIGHUP reads the certificate files again: new connections get the new certificate.
    @Test func sighupReloadsTheCertificate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await TestCertificate.make(in: directory, name: "first")
        let second = try await TestCertificate.make(in: directory, name: "second")
        let certificate = "\(directory)/served.pem"
        let key = "\(directory)/served.key"
        try FileManager.default.copyItem(atPath: first.certificate, toPath: certificate)
        try FileManager.default.copyItem(atPath: first.key, toPath: key)
        let port = 20_000 + Int.random(in: 0..<12_000)
        let process = Process()
        process.executableURL = CommandRunner.binaries.appendingPathComponent("loadbalancer")
        process.arguments = [
            "--port", "\(port)", "--admin-port", "\(port + 1)", "--tls-cert", certificate, "--tls-key", key, "--log-level", "error",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        try await waitUntil(10, "the TLS port") { (try? await Self.handshake(port, []))?.contains("CN = first") == true }
        for (from, to) in [(second.certificate, certificate), (second.key, key)] {
            try FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
        kill(process.processIdentifier, SIGHUP)
        try await waitUntil(10, "the new certificate served") { (try? await Self.handshake(port, []))?.contains("CN = second") == true }
        // A key that does not match: refused, the second certificate stays.
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: first.key, toPath: key)
        kill(process.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(process.isRunning)
        #expect(try await Self.handshake(port, []).contains("CN = second"))
    }
}
