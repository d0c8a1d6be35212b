import HTTP1Wire
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The balancer's HTTP/1.1 decoder against NIOHTTP1's on the same bytes: what each made of them,
/// in one comparable form.
public enum HTTP1Differential {
    public typealias Kind = HTTP1Decoder.Kind

    /// One decoded message.
    public struct Message: Equatable, CustomStringConvertible {
        public var method = ""
        public var target = ""
        public var version = ""
        public var status = 0
        public var headers: [String] = []
        public var keepAlive = true
        public var body: [UInt8] = []
        public var trailers: [String]?
        public var ended = false

        public var description: String {
            "\(method)\(status) \(target) \(version) \(headers) keepAlive=\(keepAlive) body=\(body.count)B trailers=\(trailers ?? []) ended=\(ended)"
        }
    }

    /// The messages decoded, and whether the bytes were refused (after those messages).
    public struct Outcome: Equatable, CustomStringConvertible {
        public var messages: [Message] = []
        public var refused = false
        /// A message asked to switch protocols (an upgrade, `CONNECT`): NIO stops decoding after
        /// it, the balancer does not (it removes `Upgrade` and refuses `CONNECT`), so what follows
        /// is not compared.
        public var upgraded = false
        /// Which message switched protocols.
        public var upgradedAt: Int?

        public var description: String { "\(refused ? "refused" : "accepted") after \(messages)" }

        /// Body bytes of the last message, from either decoder.
        mutating func appendBody(_ buffer: ByteBuffer) {
            messages[messages.count - 1].body += buffer.readableBytesView
        }

        /// The last message ended, with these trailers.
        mutating func end(_ trailers: HTTPHeaders?) {
            messages[messages.count - 1].trailers = trailers.map { $0.map { "\($0.name): \($0.value)" } }
            messages[messages.count - 1].ended = true
        }
    }

    /// What NIOHTTP1's decoder makes of `bytes`, given whole, then the connection's end.
    public static func reference(_ bytes: [UInt8], kind: HTTP1Decoder.Kind) -> Outcome {
        let channel = EmbeddedChannel()
        var outcome = Outcome()
        do {
            switch kind {
            case .request:
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            case .response:
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .forward)))
                // NIO's response decoder refuses an answer to no request: it is sent some GETs.
                for _ in 0..<16 {
                    try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
                    try channel.writeOutbound(HTTPClientRequestPart.end(nil))
                }
            }
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            collect(channel, kind: kind, into: &outcome)
            _ = try channel.finish()
        } catch {
            outcome.refused = true
        }
        collect(channel, kind: kind, into: &outcome)
        return outcome
    }

    private static func collect(_ channel: EmbeddedChannel, kind: HTTP1Decoder.Kind, into outcome: inout Outcome) {
        switch kind {
        case .request:
            while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head):
                    var message = Message()
                    message.method = head.method.rawValue
                    message.target = head.uri
                    message.version = "\(head.version)"
                    message.headers = head.headers.map { "\($0.name): \($0.value)" }
                    message.keepAlive = head.isKeepAlive
                    outcome.messages.append(message)
                    if outcome.upgradedAt == nil, head.method == .CONNECT || (head.headers.contains(name: "upgrade") && head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }) {
                        outcome.upgraded = true
                        outcome.upgradedAt = outcome.messages.count - 1
                    }
                case .body(let buffer):
                    outcome.appendBody(buffer)
                case .end(let trailers):
                    outcome.end(trailers)
                }
            }
        case .response:
            while let part = try? channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let head):
                    var message = Message()
                    message.status = Int(head.status.code)
                    message.version = "\(head.version)"
                    message.headers = head.headers.map { "\($0.name): \($0.value)" }
                    message.keepAlive = head.isKeepAlive
                    outcome.messages.append(message)
                    if head.status == .switchingProtocols, outcome.upgradedAt == nil {
                        outcome.upgraded = true
                        outcome.upgradedAt = outcome.messages.count - 1
                    }
                case .body(let buffer):
                    outcome.appendBody(buffer)
                case .end(let trailers):
                    outcome.end(trailers)
                }
            }
        }
    }

    /// What the balancer's decoder makes of `bytes`, fed in pieces of at most `piece` bytes.
    public static func ours(_ bytes: [UInt8], kind: HTTP1Decoder.Kind, piece: Int = .max) -> Outcome {
        var decoder = HTTP1Decoder(kind: kind)
        var outcome = Outcome()
        var offset = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + max(piece, 1))
                decoder.receive(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
                while let event = try decoder.next() { record(event, kind: kind, into: &outcome) }
            }
            if let event = try decoder.finish() { record(event, kind: kind, into: &outcome) }
        } catch {
            outcome.refused = true
        }
        return outcome
    }

    private static func record(_ event: HTTP1Decoder.Event, kind: HTTP1Decoder.Kind, into outcome: inout Outcome) {
        switch event {
        case .head(let head):
            var message = Message()
            if kind == .request {
                message.method = head.method.rawValue
                message.target = head.target
            } else {
                message.status = head.status
            }
            message.version = "\(head.version)"
            message.headers = head.fields.map { "\(head.name(of: $0)): \(head.value(of: $0))" }
            message.keepAlive = head.isKeepAlive
            outcome.messages.append(message)
        case .body(let buffer):
            outcome.appendBody(buffer)
        case .end(let trailers):
            outcome.end(trailers)
        }
    }

    /// A CR not followed by LF.
    static func hasBareCR(_ bytes: [UInt8]) -> Bool {
        bytes.indices.contains { bytes[$0] == 13 && $0 + 1 < bytes.count && bytes[$0 + 1] != 10 }
    }

    /// Nil when both decoders agree on `bytes`, else what each made of them. Messages after an
    /// upgrade are not compared (see ``Outcome/upgraded``); neither is a refusal that follows one.
    public static func disagreement(_ bytes: [UInt8], kind: HTTP1Decoder.Kind, piece: Int = .max) -> String? {
        var reference = reference(bytes, kind: kind)
        var ours = ours(bytes, kind: kind, piece: piece)
        if kind == .response, ours.refused, hasBareCR(bytes) {
            // Deliberately stricter: llhttp ends a status line at CR CR (and reads on); RFC 9112
            // 2.2 says to refuse a bare CR (or read it as a space), and the balancer refuses it.
            return nil
        }
        if let index = reference.upgradedAt {
            // Up to the upgrading head; what follows it is not HTTP any more for NIO.
            let count = index + 1
            guard ours.messages.count >= count else { return "upgrade: NIO \(reference), ours \(ours)" }
            ours.messages = Array(ours.messages.prefix(count))
            reference.messages = Array(reference.messages.prefix(count))
            for message in [index] {
                ours.messages[message].body = []
                reference.messages[message].body = []
                ours.messages[message].ended = false
                reference.messages[message].ended = false
                ours.messages[message].trailers = nil
                reference.messages[message].trailers = nil
            }
            ours.refused = false
            reference.refused = false
        }
        reference.upgraded = false
        reference.upgradedAt = nil
        ours.upgraded = false
        ours.upgradedAt = nil
        if reference.refused && ours.refused {
            // Refused: what was made of the refused message's head does not matter (NIO passes a
            // head on before it finds its framing wrong; the balancer refuses it before that).
            reference.messages.removeAll { !$0.ended }
            ours.messages.removeAll { !$0.ended }
        }
        return reference == ours ? nil : "NIO: \(reference)\nours: \(ours)"
    }
}
