import NIOCore
import NIOHTTP1

/// An HTTP/1.1 message decoder for one direction of one connection: the proxy's own, in place of
/// NIOHTTP1's (llhttp plus a `String` per name and value plus a pipeline hop per part).
///
/// It waits for a whole head, scanning each line once as it arrives, and hands it over as an
/// ``HTTP1Head``: the received bytes and the positions in them. Bodies come out as slices of the
/// received buffers (no copy); chunked bodies come out de-chunked, with their trailers at the end.
///
/// It accepts and refuses what NIOHTTP1's decoder does (a differential test and a fuzz target hold
/// it to that), and refuses what RFC 9112 says to refuse: obs-fold, bare CR, LF without CR,
/// whitespace before a colon, two `Content-Length`s, `Content-Length` with `Transfer-Encoding`, a
/// request `Transfer-Encoding` not ending in `chunked`, bad chunk sizes and over-long heads.
/// Upgrades are not followed: the proxy removes `Upgrade` and refuses `CONNECT` itself.
public struct HTTP1Decoder: Sendable {
    public enum Kind: Sendable { case request, response }

    public enum Event {
        case head(HTTP1Head)
        case body(ByteBuffer)
        /// The message ended; chunked messages may carry trailers.
        case end(HTTPHeaders?)
    }

    enum State {
        case head
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// The head said there is no body: the end comes next, without a byte.
        case endPending
        /// After a `101`: what follows is not HTTP.
        case stopped
        /// After a message that closes the connection: nothing more may come.
        case closed
    }

    public let kind: Kind
    /// The largest head (or trailer section) accepted, as NIOHTTP1's default (80 KiB).
    public let maxHeadBytes: Int
    /// Responses: the request answered was `HEAD`, so the response has no body whatever it says.
    public var respondingToHEAD = false
    private(set) var state = State.head
    private var scanner: HeadScanner
    /// Bytes received and not decoded yet.
    private var unread: ByteBuffer?
    /// A `101` came: the connection is not HTTP after its head.
    private var switchedProtocols = false
    /// The message being decoded keeps the connection open.
    private var keepAlive = true

    /// Shared by every call that has no bytes (`ByteBuffer()` allocates).
    private static let noBytes = ByteBuffer()

    /// Longest chunk-size line (with extensions) accepted.
    static let maxChunkLine = 4096

    public init(kind: Kind, maxHeadBytes: Int = 80 * 1024) {
        self.kind = kind
        self.maxHeadBytes = maxHeadBytes
        self.scanner = HeadScanner(kind: kind, maxBytes: maxHeadBytes)
    }

    /// Takes a read's bytes; ``next()`` decodes them after what earlier reads left undecoded (a
    /// part that had not arrived whole).
    public mutating func receive(_ buffer: ByteBuffer) {
        guard var earlier = unread else {
            unread = buffer
            return
        }
        var buffer = buffer
        earlier.discardReadBytes()
        earlier.writeBuffer(&buffer)
        unread = earlier
    }

    /// The next event from the bytes received; nil when more bytes are needed.
    public mutating func next() throws(HTTP1Error) -> Event? {
        // No bytes can still mean an event: the end of a message without a body.
        var buffer = unread ?? Self.noBytes
        unread = nil
        defer { if buffer.readableBytes > 0 { unread = buffer } }
        return try decode(&buffer)
    }

    /// The next event from `buffer`, consuming what it used; nil when more bytes are needed.
    private mutating func decode(_ buffer: inout ByteBuffer) throws(HTTP1Error) -> Event? {
        while true {
            switch state {
            case .head:
                if !scanner.started {
                    // RFC 9112 2.2: empty lines before a start line are ignored.
                    while let byte = buffer.readableBytesView.first, byte == .cr || byte == .lf { buffer.moveReaderIndex(forwardBy: 1) }
                }
                guard buffer.readableBytes > 0 else { return nil }
                let scanned = buffer.withUnsafeReadableBytes { raw in Result { () throws(HTTP1Error) in try scanner.scan(raw) } }
                guard let length = try scanned.get() else { return nil }
                var head = scanner.finish(bytes: buffer.readSlice(length: length)!)
                scanner.reset()
                state = try bodyState(after: head)
                if case .untilClose = state { head.endsWithClose = true }
                keepAlive = head.isKeepAlive
                return .head(head)
            case .endPending:
                state = switchedProtocols ? .stopped : keepAlive ? .head : .closed
                return .end(nil)
            case .closed:
                // Empty lines pass, as before a start line.
                while let byte = buffer.readableBytesView.first, byte == .cr || byte == .lf { buffer.moveReaderIndex(forwardBy: 1) }
                guard buffer.readableBytes == 0 else { throw .dataAfterClose }
                return nil
            case .length(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: count)!
                state = count == remaining ? .endPending : .length(remaining: remaining - count)
                return .body(slice)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try readChunkSize(&buffer) else { return nil }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: count)!
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(slice)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else {
                    if let first = buffer.readableBytesView.first, first != .cr { throw .invalidChunkEnd }
                    return nil
                }
                guard buffer.readInteger(as: UInt16.self) == UInt16(UInt8.cr) << 8 | UInt16(UInt8.lf) else { throw .invalidChunkEnd }
                state = .chunkSize
            case .trailers:
                var trailerScanner = scanner
                if !trailerScanner.started { trailerScanner.startTrailers() }
                let scanned = buffer.withUnsafeReadableBytes { raw in Result { () throws(HTTP1Error) in try trailerScanner.scan(raw) } }
                scanner = trailerScanner
                guard let length = try scanned.get() else { return nil }
                let section = buffer.readSlice(length: length)!
                let trailers = scanner.trailers(in: section)
                if let trailerKeepAlive = scanner.trailerKeepAlive { keepAlive = trailerKeepAlive }
                scanner.reset()
                state = keepAlive ? .head : .closed
                return .end(trailers)
            case .stopped:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
        }
    }

    /// The connection ended: the end of a body delimited by the close, nil between messages, or
    /// ``HTTP1Error/truncated`` inside one (bytes left undecoded count as one begun).
    public mutating func finish() throws(HTTP1Error) -> Event? {
        let buffered = unread != nil
        unread = nil
        switch state {
        case .untilClose:
            state = .head
            return .end(nil)
        case .endPending:
            state = .head
            return .end(nil)
        case .head:
            if scanner.started || buffered { throw .truncated }
            return nil
        case .stopped, .closed:
            return nil
        default:
            throw .truncated
        }
    }

    private mutating func bodyState(after head: HTTP1Head) throws(HTTP1Error) -> State {
        if head.hasTransferEncoding && head.contentLength != nil { throw .conflictingFraming }
        switch kind {
        case .request:
            if head.hasTransferEncoding {
                guard head.chunked else { throw .invalidTransferEncoding }
                return .chunkSize
            }
            if let length = head.contentLength, length > 0 { return .length(remaining: length) }
            return .endPending
        case .response:
            let status = head.status
            if head.isInterim {
                // Interim: the final answer follows; a 101 switches protocols.
                if status == 101 {
                    switchedProtocols = true
                    return .endPending
                }
                return head.isKeepAlive ? .head : .closed
            }
            if respondingToHEAD || status == 204 || status == 304 { return .endPending }
            if head.hasTransferEncoding { return head.chunked ? .chunkSize : .untilClose }
            if let length = head.contentLength { return length > 0 ? .length(remaining: length) : .endPending }
            return .untilClose
        }
    }

    /// Reads `1*HEXDIG [ chunk-ext ] CRLF`; nil until the whole line is there.
    private func readChunkSize(_ buffer: inout ByteBuffer) throws(HTTP1Error) -> Int? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: .lf) else {
            if view.count > Self.maxChunkLine { throw .invalidChunkSize }
            // Refuse at once what cannot become a size line.
            if let first = view.first, first.hexValue == nil { throw .invalidChunkSize }
            return nil
        }
        let start = view.startIndex
        guard lf - start <= Self.maxChunkLine, lf > start, view[lf - 1] == .cr else { throw .invalidChunkSize }
        var size = 0
        var index = start
        while index < lf - 1, let digit = view[index].hexValue {
            guard size <= (Int.max - 15) / 16 else { throw .invalidChunkSize }
            size = size * 16 + digit
            index += 1
        }
        guard index > start else { throw .invalidChunkSize }
        // Extensions, checked and dropped: `*( ";" token [ "=" ( token / quoted-string ) ] )`, the
        // tokens possibly empty (llhttp takes `;;=b`).
        let end = lf - 1
        while index < end {
            guard view[index] == UInt8(ascii: ";") else { throw .invalidChunkSize }
            index += 1
            // An empty name passes, as llhttp lets it.
            while index < end, HTTP1Tables.isTokenChar(view[index]) { index += 1 }
            guard index < end, view[index] == UInt8(ascii: "=") else { continue }
            index += 1
            if index < end, view[index] == UInt8(ascii: "\"") {
                index += 1
                while index < end, view[index] != UInt8(ascii: "\"") {
                    if view[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < end, HTTP1Tables.isFieldValueChar(view[index]) else { throw .invalidChunkSize }
                    index += 1
                }
                guard index < end else { throw .invalidChunkSize }
                index += 1
            } else {
                // An empty value passes, as llhttp lets it.
                while index < end, HTTP1Tables.isTokenChar(view[index]) { index += 1 }
            }
        }
        buffer.moveReaderIndex(forwardBy: lf + 1 - start)
        return size
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    var hexValue: Int? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(self - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(self - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(self - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
