import NIOCore

extension HTTP1Head {
    /// Whether `field`'s name is one that a `Connection` field names (its fields are then
    /// hop-by-hop too, RFC 9110 7.6.1), compared without strings.
    public func isNamedByConnection(_ field: Field) -> Bool {
        guard connectionNamesOthers else { return false }
        return bytes.withUnsafeReadableBytes { raw in
            for connection in fields where connection.kind == .connection {
                var named = false
                HeadScanner.forEachToken(raw, Int(connection.valueStart), Int(connection.valueEnd)) { start, end in
                    guard !named, end - start == Int(field.nameEnd - field.nameStart) else { return }
                    var index = 0
                    while index < end - start, raw[start + index] | 0x20 == raw[Int(field.nameStart) + index] | 0x20 { index += 1 }
                    named = index == end - start
                }
                if named { return true }
            }
            return false
        }
    }

    /// Whether a field's value is `word` (lowercase ASCII), ignoring case.
    public func valueEquals(_ field: Field, _ word: StaticString) -> Bool {
        bytes.withUnsafeReadableBytes { raw in HeadScanner.equals(raw, Int(field.valueStart), Int(field.valueEnd), word) }
    }

    /// Writes `name: value\r\n` for `field`, as received.
    public func writeField(_ field: Field, to buffer: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[Int(field.nameStart)..<Int(field.nameEnd)]))
            buffer.writeStaticString(": ")
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[Int(field.valueStart)..<Int(field.valueEnd)]))
            buffer.writeStaticString("\r\n")
        }
    }

    /// Whether the status line's reason phrase is `phrase` (a status line at the head's start).
    public func reasonEquals(_ phrase: String) -> Bool {
        guard let block = fieldBlock else { return false }
        let end = block.lowerBound - 2
        guard end > 12 else { return false }
        return bytes.withUnsafeReadableBytes { raw in
            var index = 13
            for byte in phrase.utf8 {
                guard index < end, raw[index] == byte else { return false }
                index += 1
            }
            return index == end
        }
    }

    /// Writes the bytes of `range` (offsets in the head).
    public func write(_ range: Range<Int>, to buffer: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[range])) }
    }

    /// Bytes the fields take on the wire, each `name: value\r\n`.
    public var fieldsWireSize: Int {
        fields.reduce(0) { $0 + wireSize(of: $1) + 4 }
    }
}
