import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import NIOHTTP1

/// Scans a head (or a trailer section) line by line as its bytes arrive: each complete line is
/// checked once, so a head sent a byte at a time costs no more than one sent whole, and a bad
/// line is refused as soon as it is complete. Offsets are from the start of the head, which
/// stays in the connection's buffer until the blank line that ends it.
struct HeadScanner: Sendable {
    let kind: HTTP1Decoder.Kind
    let maxBytes: Int
    private var lineStart = 0
    private var searchFrom = 0
    private var startLineDone = false
    /// Trailers: fields only, and none of them changes the framing.
    private var trailerMode = false
    /// A `chunked` coding was named already.
    private var sawChunked = false
    private var head: HTTP1Head

    init(kind: HTTP1Decoder.Kind, maxBytes: Int) {
        self.kind = kind
        self.maxBytes = maxBytes
        head = HTTP1Head(bytes: Self.noBytes, fields: [])
        // Room for a typical head's fields: one allocation instead of one per doubling.
        head.fields.reserveCapacity(12)
    }

    /// Ready for the next head (cheaper than a new scanner).
    mutating func reset() {
        lineStart = 0
        searchFrom = 0
        startLineDone = false
        trailerMode = false
        sawChunked = false
        head = HTTP1Head(bytes: Self.noBytes, fields: [])
        head.fields.reserveCapacity(12)
    }

    /// Shared by every new scanner (`ByteBuffer()` allocates).
    private static let noBytes = ByteBuffer()

    /// Some of the head was seen.
    var started: Bool { searchFrom > 0 || startLineDone }

    /// A trailer section has no start line.
    mutating func startTrailers() {
        startLineDone = true
        trailerMode = true
    }

    /// Scans what arrived; returns the head's length once its blank line is there.
    mutating func scan(_ raw: UnsafeRawBufferPointer) throws(HTTP1Error) -> Int? {
        let count = raw.count
        while true {
            guard let lf = Self.index(of: .lf, in: raw, from: searchFrom) else {
                searchFrom = count
                if count > maxBytes { throw .headTooLarge }
                if !startLineDone { try checkPartialStartLine(raw) }
                return nil
            }
            if lf >= maxBytes { throw .headTooLarge }
            guard lf > lineStart, raw[lf - 1] == .cr else { throw .invalidLineEnding }
            let lineEnd = lf - 1
            if !startLineDone {
                try parseStartLine(raw, lineStart, lineEnd)
                startLineDone = true
            } else if lineEnd == lineStart {
                if head.fields.isEmpty { head.fieldBlockStart = Int32(lineStart) }
                if head.fieldBlockStart >= 0 { head.fieldBlockEnd = Int32(lineStart) }
                return lf + 1
            } else {
                try parseField(raw, lineStart, lineEnd)
            }
            lineStart = lf + 1
            searchFrom = lineStart
        }
    }

    /// The head, once ``scan(_:)`` found its end; `bytes` is exactly its bytes.
    func finish(bytes: ByteBuffer) -> HTTP1Head {
        var head = self.head
        head.bytes = bytes
        return head
    }

    /// What a trailer section's `Connection` said: `close` → false, `keep-alive` → true.
    var trailerKeepAlive: Bool? {
        head.connectionClose ? false : head.connectionKeepAlive ? true : nil
    }

    /// A trailer section's fields, nil when it has none.
    func trailers(in bytes: ByteBuffer) -> HTTPHeaders? {
        guard !head.fields.isEmpty else { return nil }
        var section = head
        section.bytes = bytes
        return section.headers
    }

    private static func index(of byte: UInt8, in raw: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < raw.count, let base = raw.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), raw.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    // MARK: Start line

    /// A first line that cannot become a valid one is refused before its end arrives: garbage
    /// gets its 400 at once rather than at the header time-out.
    private func checkPartialStartLine(_ raw: UnsafeRawBufferPointer) throws(HTTP1Error) {
        let prefix = kind == .request ? 0 : min(raw.count - lineStart, 5)
        if kind == .response {
            for (offset, byte) in "HTTP/".utf8.prefix(prefix).enumerated() where raw[lineStart + offset] != byte { throw .invalidVersion }
            return
        }
        var index = lineStart
        while index < raw.count, raw[index] != .space {
            guard HTTP1Tables.isMethodChar(raw[index]), index - lineStart < 16 else { throw .invalidMethod }
            index += 1
        }
    }

    private mutating func parseStartLine(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1Error) {
        switch kind {
        case .request: try parseRequestLine(raw, start, end)
        case .response: try parseStatusLine(raw, start, end)
        }
    }

    /// `method SP request-target SP HTTP-version`
    private mutating func parseRequestLine(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1Error) {
        var index = start
        while index < end, raw[index] != .space { index += 1 }
        guard let method = HTTP1Tables.method(raw, start, index) else { throw .invalidMethod }
        guard index < end else { throw .invalidStartLine }
        let methodEnd = index
        // More than one space after the method: llhttp takes it, as RFC 9112 3 allows.
        while index < end, raw[index] == .space { index += 1 }
        let targetStart = index
        while index < end, raw[index] != .space {
            guard HTTP1Tables.isTargetChar(raw[index]) else { throw .invalidTarget }
            index += 1
        }
        guard index > targetStart, HTTP1Tables.isValidTarget(raw, targetStart, index, connect: method == HTTP1Tables.connectIndex) else {
            throw .invalidTarget
        }
        guard index < end else { throw .invalidVersion }
        head.methodIndex = method
        head.targetStart = Int32(targetStart)
        head.targetEnd = Int32(index)
        let targetEnd = index
        while index < end, raw[index] == .space { index += 1 }
        head.minorVersion = try Self.version(raw, index, end)
        head.startLineIsCanonical = start == 0 && targetStart == methodEnd + 1 && index == targetEnd + 1
    }

    /// `HTTP-version SP 3DIGIT [ SP reason-phrase ]`
    private mutating func parseStatusLine(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1Error) {
        guard end - start >= 12 else { throw end - start >= 8 ? .invalidStatus : .invalidVersion }
        head.minorVersion = try Self.version(raw, start, start + 8)
        guard raw[start + 8] == .space else { throw .invalidStatus }
        var status = 0
        for index in (start + 9)..<(start + 12) {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(raw[index]) else { throw .invalidStatus }
            status = status * 10 + Int(raw[index] - UInt8(ascii: "0"))
        }
        if start + 12 < end {
            guard raw[start + 12] == .space else { throw .invalidStatus }
            // Any byte but CR, as llhttp takes it (the proxy sends the standard phrase, never this
            // one). A CR in it is refused (RFC 9112 2.2), where llhttp ends the line at CR CR.
            for index in (start + 13)..<end where raw[index] == .cr { throw .invalidLineEnding }
        }
        head.status = status
        head.startLineIsCanonical = start == 0
    }

    /// `HTTP/1.0` or `HTTP/1.1`, exactly: what NIOHTTP1 accepts.
    private static func version(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1Error) -> UInt8 {
        guard end - start == 8 else { throw .invalidVersion }
        // "HTTP/1." as one little-endian word, its last byte masked off.
        let word = raw.loadUnaligned(fromByteOffset: start, as: UInt64.self).littleEndian
        guard word & 0x00FF_FFFF_FFFF_FFFF == 0x002E_312F_5054_5448 else { throw .invalidVersion }
        switch raw[start + 7] {
        case UInt8(ascii: "1"): return 1
        case UInt8(ascii: "0"): return 0
        default: throw .invalidVersion
        }
    }

    // MARK: Field lines

    /// `field-name ":" OWS field-value OWS`
    private mutating func parseField(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1Error) {
        if raw[start] == .space || raw[start] == .tab { throw .obsoleteLineFolding }
        var index = start
        while index < end, HTTP1Tables.isTokenChar(raw[index]) { index += 1 }
        guard index > start, index < end, raw[index] == UInt8(ascii: ":") else { throw .invalidHeaderName }
        let nameEnd = index
        index += 1
        while index < end, raw[index] == .space || raw[index] == .tab { index += 1 }
        let valueStart = index
        var trimmedEnd = index
        while index < end {
            let byte = raw[index]
            guard HTTP1Tables.isFieldValueChar(byte) else { throw .invalidHeaderValue }
            index += 1
            if byte != .space && byte != .tab { trimmedEnd = index }
        }
        let kind = HTTP1Tables.kind(raw, start, nameEnd)
        // Each line exactly `name: value`: the block of them can be copied whole.
        if head.fields.isEmpty && !trailerMode { head.fieldBlockStart = Int32(start) }
        if valueStart != nameEnd + 2 || raw[nameEnd + 1] != .space { head.fieldBlockStart = -1 }
        // The value keeps trailing whitespace, as NIO's does; what the proxy reads of it is trimmed.
        let field = HTTP1Head.Field(
            nameStart: Int32(start), nameEnd: Int32(nameEnd), valueStart: Int32(valueStart), valueEnd: Int32(end), kind: kind)
        if trailerMode {
            // Framing has no place in trailers (llhttp refuses it too); `Connection` counts.
            switch kind {
            case .contentLength: throw .conflictingFraming
            case .transferEncoding: throw .invalidTransferEncoding
            case .connection: try apply(field, valueEnd: trimmedEnd, raw)
            default: break
            }
        } else {
            try apply(field, valueEnd: trimmedEnd, raw)
        }
        head.fields.append(field)
        head.kinds |= 1 << kind.rawValue
    }


    /// What the framing and connection fields say.
    private mutating func apply(_ field: HTTP1Head.Field, valueEnd end: Int, _ raw: UnsafeRawBufferPointer) throws(HTTP1Error) {
        let start = Int(field.valueStart)
        switch field.kind {
        case .contentLength:
            guard head.contentLength == nil else { throw .conflictingFraming }
            guard end > start else { throw .invalidContentLength }
            var length = 0
            for index in start..<end {
                let byte = raw[index]
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), length <= (Int.max - 9) / 10 else { throw .invalidContentLength }
                length = length * 10 + Int(byte - UInt8(ascii: "0"))
            }
            head.contentLength = length
        case .transferEncoding:
            // An empty one says nothing (llhttp reads it so).
            guard end > start else { break }
            head.hasTransferEncoding = true
            // `chunked` once only, in all the fields together (RFC 9112 7: it is applied once).
            var twice = false
            Self.forEachToken(raw, start, end) { tokenStart, tokenEnd in
                let isChunked = Self.equals(raw, tokenStart, tokenEnd, "chunked")
                if isChunked && sawChunked { twice = true }
                if isChunked { sawChunked = true }
                head.chunked = isChunked
            }
            if twice { throw .invalidTransferEncoding }
        case .connection:
            Self.forEachToken(raw, start, end) { tokenStart, tokenEnd in
                if Self.equals(raw, tokenStart, tokenEnd, "close") {
                    head.connectionClose = true
                } else if Self.equals(raw, tokenStart, tokenEnd, "keep-alive") {
                    head.connectionKeepAlive = true
                } else if !HTTP1Tables.kind(raw, tokenStart, tokenEnd).isHopByHop {
                    head.connectionNamesOthers = true
                }
            }
        default:
            break
        }
    }

    static func forEachToken(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void) {
        var index = start
        while index < end {
            while index < end, raw[index] == UInt8(ascii: ",") || raw[index] == .space || raw[index] == .tab { index += 1 }
            let tokenStart = index
            while index < end, raw[index] != UInt8(ascii: ",") { index += 1 }
            var tokenEnd = index
            while tokenEnd > tokenStart, raw[tokenEnd - 1] == .space || raw[tokenEnd - 1] == .tab { tokenEnd -= 1 }
            if tokenEnd > tokenStart { body(tokenStart, tokenEnd) }
        }
    }

    /// ASCII case-insensitive comparison with a lowercase word.
    static func equals(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ word: StaticString) -> Bool {
        guard end - start == word.utf8CodeUnitCount else { return false }
        let bytes = word.utf8Start
        for offset in 0..<(end - start) where raw[start + offset] | 0x20 != bytes[offset] { return false }
        return true
    }
}
