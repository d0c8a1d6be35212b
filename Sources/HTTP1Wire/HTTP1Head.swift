import NIOCore
import NIOHTTP1

/// A request or response head as received: its bytes, untouched, and where each part of it is.
///
/// Nothing is copied out of the connection's buffer: names and values are ranges of ``bytes``,
/// and the fields the proxy acts on were recognised while scanning (``Field/Kind``). Strings are
/// made only when asked for.
public struct HTTP1Head: Sendable {
    /// One field line: where its name and value (without surrounding whitespace) are in ``bytes``.
    public struct Field: Sendable {
        public enum Kind: UInt8, Sendable, CaseIterable {
            case other, host, contentLength, transferEncoding, connection, keepAlive, te, trailer, upgrade
            case proxyConnection, proxyAuthorization, xForwardedFor, xForwardedProto

            /// Hop-by-hop (RFC 9110 7.6.1): meant for one connection only, never forwarded.
            public var isHopByHop: Bool {
                switch self {
                case .transferEncoding, .connection, .keepAlive, .te, .trailer, .upgrade, .proxyConnection, .proxyAuthorization: true
                default: false
                }
            }
        }

        public var nameStart: Int32
        public var nameEnd: Int32
        public var valueStart: Int32
        public var valueEnd: Int32
        public var kind: Kind
    }

    /// The whole head, from the start line to the blank line that ends it.
    public var bytes: ByteBuffer
    public var fields: [Field]
    // Small scalars only below: a head is copied as it is handed on, and a `String` inside (an
    // `HTTPMethod`, say) would make each copy retain and release it.
    /// `HTTP/1.x`
    var minorVersion: UInt8 = 1
    /// Index of the method in the decoder's list.
    var methodIndex: UInt8 = 0
    var targetStart: Int32 = 0
    var targetEnd: Int32 = 0
    var fieldBlockStart: Int32 = -1
    var fieldBlockEnd: Int32 = -1
    /// Responses: the status code.
    public var status: Int = 0

    public var version: HTTPVersion { minorVersion == 1 ? .http1_1 : .http1_0 }
    /// Requests: the method; responses: unused (`GET`).
    public var method: HTTPMethod { HTTP1Tables.method(at: methodIndex) }
    /// Requests: where the target is in ``bytes``.
    public var targetRange: Range<Int> { Int(targetStart)..<Int(targetEnd) }
    /// `Connection` tokens seen: `close`, `keep-alive`, and whether others were named.
    public var connectionClose = false
    public var connectionKeepAlive = false
    public var connectionNamesOthers = false
    /// The value of the one `Content-Length` field, if there is one.
    public var contentLength: Int?
    /// A `Transfer-Encoding` field is present; ``chunked``: its last coding is `chunked`.
    public var hasTransferEncoding = false
    public var chunked = false
    /// Responses: the body ends with the connection (no length, not chunked).
    public var endsWithClose = false
    /// The start line is at the head's first byte, with single spaces between its parts: what
    /// NIO's encoder would write for it (a response's reason phrase aside).
    public var startLineIsCanonical = false
    /// Where the field lines are, when every one of them is written exactly `name: value` (one
    /// space after the colon): then copying the block is the same as writing each field.
    public var fieldBlock: Range<Int>? {
        fieldBlockStart < 0 ? nil : Int(fieldBlockStart)..<Int(fieldBlockEnd)
    }
    /// Bit set of the ``Field/Kind``s present.
    public var kinds: UInt32 = 0

    public func contains(_ kind: Field.Kind) -> Bool { kinds & (1 << kind.rawValue) != 0 }

    /// Any hop-by-hop field is present.
    public var hasHopByHop: Bool { kinds & Self.hopByHopKinds != 0 }

    /// ``kinds`` bits of the hop-by-hop fields, made once from ``Field/Kind/isHopByHop``.
    private static let hopByHopKinds: UInt32 = Field.Kind.allCases.filter(\.isHopByHop).reduce(0) { $0 | 1 << $1.rawValue }

    /// The connection stays open after this message (RFC 9112 9.3), as NIO's `isKeepAlive` says.
    public var isKeepAlive: Bool {
        if connectionClose || endsWithClose { return false }
        if connectionKeepAlive { return true }
        return version.major == 1 && version.minor >= 1
    }

    /// An interim (`1xx`) response: the final one follows. (A status below 100 is a final one,
    /// as llhttp reads it.)
    public var isInterim: Bool { (100..<200).contains(status) }

    /// The head without the blank line that ends it: for writing it on with fields added.
    public var bytesBeforeBlankLine: ByteBuffer { bytes.getSlice(at: bytes.readerIndex, length: bytes.readableBytes - 2)! }

    /// The request target as a string.
    public var target: String { string(targetRange) }

    public func name(of field: Field) -> String { string(Int(field.nameStart)..<Int(field.nameEnd)) }
    public func value(of field: Field) -> String { string(Int(field.valueStart)..<Int(field.valueEnd)) }

    /// The fields as NIO's `HTTPHeaders` (an allocation per name and value: for tests and rare paths).
    public var headers: HTTPHeaders {
        HTTPHeaders(fields.map { (name(of: $0), value(of: $0)) })
    }

    /// Byte length of a field's name plus value.
    public func wireSize(of field: Field) -> Int {
        Int(field.nameEnd - field.nameStart) + Int(field.valueEnd - field.valueStart)
    }

    /// Whether a field's name equals `name` (lowercase ASCII), without making a string.
    public func nameEquals(_ field: Field, _ name: String) -> Bool {
        let count = Int(field.nameEnd - field.nameStart)
        guard count == name.utf8.count else { return false }
        return bytes.withUnsafeReadableBytes { raw in
            var index = Int(field.nameStart)
            for byte in name.utf8 {
                if raw[index] | 0x20 != byte | 0x20 { return false }
                index += 1
            }
            return true
        }
    }

    private func string(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }
}
