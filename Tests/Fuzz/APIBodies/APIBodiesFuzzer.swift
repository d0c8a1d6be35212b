import APISupport
import AutoscalerAPI
import AutoscalerClient
import Foundation
import FuzzSupport
import Hummingbird
import InstanceProviders
import Logging
import Scheduler

/// What the two HTTP APIs make of their input, past the HTTP parser: the request policy (Host,
/// Origin, Content-Type), the balancer's `PUT /api/v1/backends/NAME` (name and body), the
/// scheduler's `POST /api/v1/scale` bodies applied one after the other to a real scheduler, and
/// the balancer's stats as the scheduler reads them.
@main
enum APIBodiesFuzzer {
    static let stateDirectory = NSTemporaryDirectory() + "autoscaler-fuzz-api-\(getpid())"
    static let provider = try! ProcessProvider(configuration: .init(stateDirectory: stateDirectory))
    static let balancer = try! BalancerAdminClient(url: "http://127.0.0.1:9")

    static func main() {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        atexit { try? FileManager.default.removeItem(atPath: APIBodiesFuzzer.stateDirectory) }
        FuzzDriver.run { input in
            switch input.choice() % 4 {
            case 0: policy(&input)
            case 1: registration(&input)
            case 2: scale(&input)
            default: stats(&input)
            }
        }
    }

    /// An accepted request names a loopback Host and, when it writes a body, sends JSON.
    static func policy(_ input: inout FuzzInput) {
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch, .head]
        let method = methods[Int(input.choice()) % methods.count]
        let hasBody = input.choice() % 2 == 0
        let fields = input.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let host = fields.first, origin = fields.count > 1 ? fields[1] : nil, type = fields.count > 2 ? fields[2] : nil
        let verdict = LocalRequestPolicy(listenHost: "127.0.0.1").verdict(method: method, host: host, origin: origin, contentType: type, hasBody: hasBody)
        guard verdict == nil, let host else { return }
        // The policy reads the name inside brackets too ("[127.0.0.1]:80").
        let name = host.lowercased().hasPrefix("[") ? String(host.lowercased().dropFirst()) : host.lowercased()
        FuzzDriver.require(
            name.hasPrefix("127.") || name.hasPrefix("localhost") || name.hasPrefix("::1]") || name == "::1", "Host '\(host)' accepted")
        if method != .get && method != .head && hasBody {
            FuzzDriver.require(type?.lowercased().contains("application/json") == true, "a body of type '\(type ?? "none")' accepted")
        }
    }

    /// A backend's name and address as the admin API checks them: an accepted address prints
    /// back as itself and carries nothing a header or a log line could be split by.
    static func registration(_ input: inout FuzzInput) {
        let split = Int(input.choice()) % 32
        let bytes = input.rest
        let name = String(decoding: bytes.prefix(split), as: UTF8.self)
        if InstanceNaming.isValid(name) {
            FuzzDriver.require(!name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }, "name '\(name)' accepted")
        }
        guard let registration = try? JSONDecoder().decode(BackendRegistration.self, from: Data(bytes.dropFirst(split))),
            let endpoint = Endpoint(registration.address)
        else { return }
        FuzzDriver.require(Endpoint(endpoint.description) == endpoint, "'\(registration.address)' does not print back as itself")
        FuzzDriver.require(
            !endpoint.host.unicodeScalars.contains { $0.properties.isWhitespace || $0.properties.generalCategory == .control },
            "address host '\(endpoint.host)' accepted")
    }

    /// Scale requests, one JSON body per line, on a scheduler with min … max from the input: each
    /// accepted one lands within min … max.
    static func scale(_ input: inout FuzzInput) {
        var configuration = Scheduler.Configuration()
        configuration.rules.minimum = Int(input.choice() % 4)
        configuration.rules.maximum = configuration.rules.minimum + 1 + Int(input.choice() % 8)
        guard let history = try? History(path: nil) else { return FuzzDriver.require(false, "no in-memory history") }
        let scheduler = Scheduler(configuration: configuration, provider: provider, balancer: balancer, history: history, logger: Logger(label: "fuzz"))
        for line in input.text.split(separator: "\n") {
            guard let request = try? JSONDecoder().decode(ScaleRequest.self, from: Data(line.utf8)),
                let target = try? scheduler.requestScale(request)
            else { continue }
            FuzzDriver.require((configuration.rules.minimum...configuration.rules.maximum).contains(target), "scaled to \(target)")
        }
    }

    /// The balancer's stats JSON, twice (an earlier and a later read), and the latency the
    /// scheduler derives from them.
    static func stats(_ input: inout FuzzInput) {
        let text = input.text
        let parts = text.split(separator: "\n", maxSplits: 1).map { Data($0.utf8) }
        let decoded = parts.compactMap { try? JSONDecoder().decode(BalancerStats.self, from: $0) }
        guard let latest = decoded.last?.latency else { return }
        for quantile in [0.5, 0.99] {
            if let value = latest.quantile(quantile, since: decoded.count > 1 ? decoded[0].latency : nil) {
                FuzzDriver.require(!value.isNaN, "quantile \(quantile) is NaN")
            }
        }
    }
}
