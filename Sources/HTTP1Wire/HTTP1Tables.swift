import NIOHTTP1

/// Byte classes of RFC 9110/9112 and the methods NIOHTTP1's decoder (llhttp) knows.
enum HTTP1Tables {
    /// `tchar`: what a token (a method, a field name) is made of.
    static func isTokenChar(_ byte: UInt8) -> Bool { inSet(byte, tokenLow, tokenHigh) }

    /// `field-vchar`, SP and HTAB: what a field value may hold (no control bytes, no bare CR).
    static func isFieldValueChar(_ byte: UInt8) -> Bool { byte == .tab || (byte >= 0x20 && byte != 0x7F) }

    /// A request target: visible ASCII (no space, no control byte, no byte above 0x7E).
    static func isTargetChar(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    /// The target's shape as llhttp checks it: origin-form (`/…`), asterisk-form (`*…`),
    /// absolute-form (`scheme://authority[/path][?query]`), or for `CONNECT` authority-form;
    /// query after `?`, fragment after `#`. The bytes are visible ASCII already.
    static func isValidTarget(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int, connect: Bool) -> Bool {
        enum Part { case path, query, fragment, server }
        var index = start
        var part: Part
        if connect {
            part = .server
        } else {
            let first = raw[index]
            if first == UInt8(ascii: "/") || first == UInt8(ascii: "*") {
                part = .path
            } else if isAlpha(first) {
                while index < end, isAlpha(raw[index]) { index += 1 }
                guard end - index >= 3, raw[index] == UInt8(ascii: ":"), raw[index + 1] == UInt8(ascii: "/"),
                    raw[index + 2] == UInt8(ascii: "/")
                else { return false }
                index += 3
                part = .server
            } else {
                return false
            }
        }
        while index < end {
            let byte = raw[index]
            switch part {
            case .server:
                if byte == UInt8(ascii: "/") {
                    part = .path
                } else if byte == UInt8(ascii: "?") {
                    part = .query
                } else if !inSet(byte, serverLow, serverHigh) {
                    return false
                }
            case .path:
                if byte == UInt8(ascii: "?") { part = .query } else if byte == UInt8(ascii: "#") { part = .fragment }
            case .query:
                if byte == UInt8(ascii: "#") { part = .fragment }
            case .fragment:
                break
            }
            index += 1
        }
        return true
    }

    private static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }


    /// What a known method starts with: capital letters and `-` (`M-SEARCH`).
    static func isMethodChar(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-") }

    /// Byte sets as two 64-bit masks (bytes 0–63 and 64–127): a shift and a test per byte, no
    /// table in memory.
    @inline(__always)
    private static func inSet(_ byte: UInt8, _ low: UInt64, _ high: UInt64) -> Bool {
        byte < 64 ? (low >> UInt64(byte)) & 1 != 0 : byte < 128 ? (high >> UInt64(byte - 64)) & 1 != 0 : false
    }

    private static func mask(_ bytes: String, from base: UInt8) -> UInt64 {
        bytes.utf8.reduce(0) { $1 >= base && $1 < base + 64 ? $0 | 1 << UInt64($1 - base) : $0 }
    }

    private static let alphanumerics = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    /// `tchar` (RFC 9110 5.6.2).
    private static let tokenChars = alphanumerics + "!#$%&'*+-.^_`|~"
    private static let tokenLow: UInt64 = mask(tokenChars, from: 0)
    private static let tokenHigh: UInt64 = mask(tokenChars, from: 64)
    /// What llhttp takes in an authority (`url_server`), `@` included.
    private static let serverChars = alphanumerics + "$%&'()*+,-.!:;=[]_~@"
    private static let serverLow: UInt64 = mask(serverChars, from: 0)
    private static let serverHigh: UInt64 = mask(serverChars, from: 64)

    /// The methods of llhttp's HTTP mode, as NIO names them.
    private static let methods: [(name: [UInt8], method: HTTPMethod)] = ([
        ("GET", .GET), ("POST", .POST), ("HEAD", .HEAD), ("PUT", .PUT), ("DELETE", .DELETE), ("OPTIONS", .OPTIONS),
        ("PATCH", .PATCH), ("CONNECT", .CONNECT), ("TRACE", .TRACE), ("COPY", .COPY), ("LOCK", .LOCK), ("MKCOL", .MKCOL),
        ("MOVE", .MOVE), ("PROPFIND", .PROPFIND), ("PROPPATCH", .PROPPATCH), ("SEARCH", .SEARCH), ("UNLOCK", .UNLOCK),
        ("BIND", .BIND), ("REBIND", .REBIND), ("UNBIND", .UNBIND), ("ACL", .ACL), ("REPORT", .REPORT),
        ("MKACTIVITY", .MKACTIVITY), ("CHECKOUT", .CHECKOUT), ("MERGE", .MERGE), ("M-SEARCH", .MSEARCH),
        ("NOTIFY", .NOTIFY), ("SUBSCRIBE", .SUBSCRIBE), ("UNSUBSCRIBE", .UNSUBSCRIBE), ("PURGE", .PURGE),
        ("MKCALENDAR", .MKCALENDAR), ("LINK", .LINK), ("UNLINK", .UNLINK), ("SOURCE", .SOURCE), ("QUERY", .RAW(value: "QUERY")),
    ] as [(String, HTTPMethod)]).map { (Array($0.0.utf8), $0.1) }

    /// The method's index in the list (``method(at:)`` gives it back).
    static func method(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UInt8? {
        let count = end - start
        // The common one first, without the list.
        if count == 3, raw[start] == UInt8(ascii: "G"), raw[start + 1] == UInt8(ascii: "E"), raw[start + 2] == UInt8(ascii: "T") { return 0 }
        outer: for (index, (name, _)) in methods.enumerated() where name.count == count {
            for offset in 0..<count where raw[start + offset] != name[offset] { continue outer }
            return UInt8(index)
        }
        return nil
    }

    static func method(at index: UInt8) -> HTTPMethod {
        index == 0 ? .GET : methods[Int(index)].method
    }

    /// Index of `CONNECT` in the list.
    static let connectIndex = UInt8(methods.firstIndex { $0.method == .CONNECT }!)

    /// Which of the fields the proxy acts on a name is, compared without a string.
    static func kind(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTP1Head.Field.Kind {
        func equals(_ word: StaticString) -> Bool { HeadScanner.equals(raw, start, end, word) }
        switch end - start {
        case 2: return equals("te") ? .te : .other
        case 4: return equals("host") ? .host : .other
        case 7: return equals("trailer") ? .trailer : equals("upgrade") ? .upgrade : .other
        case 10: return equals("connection") ? .connection : equals("keep-alive") ? .keepAlive : .other
        case 14: return equals("content-length") ? .contentLength : .other
        case 15: return equals("x-forwarded-for") ? .xForwardedFor : .other
        case 16: return equals("proxy-connection") ? .proxyConnection : .other
        case 17: return equals("transfer-encoding") ? .transferEncoding : equals("x-forwarded-proto") ? .xForwardedProto : .other
        case 19: return equals("proxy-authorization") ? .proxyAuthorization : .other
        default: return .other
        }
    }
}
