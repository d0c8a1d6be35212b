/// A TCP address that serves HTTP, written `host:port`.
public struct Endpoint: Sendable, Hashable, Codable, CustomStringConvertible, LosslessStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; nil when the port is missing or out of range.
    public init?(_ description: String) {
        guard let colon = description.lastIndex(of: ":"), let port = Int(description[description.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(description[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // Names and addresses only: a control character or a bracket got through and did not
        // print back as itself (found by scripts/fuzz.sh api-bodies).
        guard !host.isEmpty, host.unicodeScalars.allSatisfy(Self.isHostCharacter) else { return nil }
        self.host = host
        self.port = port
    }

    /// Letters, digits and `.-_:%` (an IPv6 address and its zone included).
    static func isHostCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_", ":", "%": true
        default: false
        }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// `http://host:port/`.
    public var url: String { "http://\(description)/" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let endpoint = Endpoint(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not host:port: \(text)"))
        }
        self = endpoint
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
