import AutoscalerAPI
import Foundation
import HTTP1Wire
import NIOCore
import NIOHTTP1

/// Header rewriting between client and backend, on the received bytes: fields are copied as they
/// came, except those dropped; added fields go last (as `HTTPHeaders.replaceOrAdd` would put them).
extension ProxyHandler {
    /// The head sent to the backend: origin-form target, HTTP/1.1, no hop-by-hop fields, the
    /// forwarding fields. A `Host` added for an HTTP/1.0 client that sent none names `backend`
    /// (also on a retry).
    ///
    /// `suffix` is the connection's forwarding fields and blank line: when nothing else changes
    /// (the common case), the head goes as its received bytes plus `suffix`, without a copy.
    static func forwardedHead(
        _ head: HTTP1Head, client: String, scheme: String = "http", suffix: ByteBuffer, to backend: Backend, allocator: ByteBufferAllocator
    ) -> (head: ByteBuffer, suffix: ByteBuffer?) {
        if head.startLineIsCanonical, head.version == .http1_1, head.fieldBlock != nil, !head.hasHopByHop, head.contains(.host),
            !head.contains(.xForwardedFor), !head.contains(.xForwardedProto),
            head.bytes.getInteger(at: head.bytes.readerIndex + head.targetRange.lowerBound, as: UInt8.self) == UInt8(ascii: "/")
        {
            return (head.bytesBeforeBlankLine, suffix)
        }
        return (copiedHead(head, client: client, scheme: scheme, to: backend, allocator: allocator), nil)
    }

    /// The forwarded head written out field by field, with the edits it needs.
    private static func copiedHead(
        _ head: HTTP1Head, client: String, scheme: String, to backend: Backend, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let target: String? = head.bytes.getInteger(at: head.bytes.readerIndex + head.targetRange.lowerBound, as: UInt8.self) == UInt8(ascii: "/")
            ? nil : originForm(head.target)
        let method = head.method.rawValue
        let dropHopByHop = head.hasHopByHop
        // A field that `Connection` names is dropped before these are looked at.
        func kept(_ field: HTTP1Head.Field) -> Bool { !(dropHopByHop && head.isNamedByConnection(field)) }
        let existingForwardedFor = head.contains(.xForwardedFor) ? head.fields.first { $0.kind == .xForwardedFor && kept($0) } : nil
        let hasHost = head.contains(.host) && (!head.connectionNamesOthers || head.fields.contains { $0.kind == .host && kept($0) })
        let host = hasHost ? nil : backend.endpoint.description
        var size = method.utf8.count + (target?.utf8.count ?? head.targetRange.count) + 13 + head.fieldsWireSize + 2
        size += 19 + client.utf8.count + 2 + (existingForwardedFor.map { head.wireSize(of: $0) } ?? 0) + 28 + 28 + (host?.utf8.count ?? 0)
        var buffer = allocator.buffer(capacity: size)
        buffer.writeString(method)
        buffer.writeStaticString(" ")
        if let target { buffer.writeString(target) } else { head.write(head.targetRange, to: &buffer) }
        buffer.writeStaticString(" HTTP/1.1\r\n")
        if let block = head.fieldBlock, !dropHopByHop, !head.contains(.xForwardedFor), !head.contains(.xForwardedProto) {
            // Nothing to drop: the fields as received, in one copy.
            head.write(block, to: &buffer)
        } else {
            writeFields(of: head, dropHopByHop: dropHopByHop, to: &buffer)
        }
        if head.hasTransferEncoding { buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        buffer.writeStaticString("X-Forwarded-For: ")
        if let existingForwardedFor {
            head.write(Int(existingForwardedFor.valueStart)..<Int(existingForwardedFor.valueEnd), to: &buffer)
            buffer.writeStaticString(", ")
        }
        buffer.writeString(client)
        buffer.writeStaticString("\r\nX-Forwarded-Proto: ")
        buffer.writeString(scheme)
        buffer.writeStaticString("\r\n")
        if let host {
            buffer.writeStaticString("Host: ")
            buffer.writeString(host)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The fields but the forwarding ones (written anew) and, when `dropHopByHop`, the hop-by-hop ones.
    private static func writeFields(of head: HTTP1Head, dropHopByHop: Bool, to buffer: inout ByteBuffer) {
        for field in head.fields {
            switch field.kind {
            case .xForwardedFor, .xForwardedProto:
                continue
            default:
                if dropHopByHop && (field.kind.isHopByHop || head.isNamedByConnection(field)) { continue }
                head.writeField(field, to: &buffer)
            }
        }
    }

    /// `{"error": message}` plus a newline: the body of every error the proxy itself answers.
    static func errorBody(_ message: String) -> String {
        let json = (try? JSONEncoder().encode(APIErrorBody(error: message))).map { String(decoding: $0, as: UTF8.self) }
        return (json ?? #"{"error":"internal error"}"#) + "\n"
    }

    /// Whether a backend's head has hop-by-hop fields to drop: a lone `Connection: keep-alive`
    /// (what most backends send) does not count, as it holds for the client connection too when
    /// that stays open.
    static func needsHopByHopRemoval(_ head: HTTP1Head) -> Bool {
        guard head.hasHopByHop else { return false }
        return head.fields.contains { field in
            field.kind.isHopByHop && !(field.kind == .connection && head.valueEquals(field, "keep-alive"))
        }
    }

    /// `http://host/path?q` → `/path?q`: an absolute-form target is served from the pool like any
    /// other. Nil when the target is already in origin form.
    static func originForm(_ uri: String) -> String? {
        guard uri.utf8.first != UInt8(ascii: "/"), uri.hasPrefix("http://") || uri.hasPrefix("https://") else { return nil }
        guard let scheme = uri.range(of: "://") else { return nil }
        let afterScheme = uri[scheme.upperBound...]
        guard let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let rest = afterScheme[slash...]
        return rest.hasPrefix("?") ? "/" + rest : String(rest)
    }
}

extension HTTPMethod {
    /// Safe to send again after a failure (RFC 9110 9.2.2).
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }
}
