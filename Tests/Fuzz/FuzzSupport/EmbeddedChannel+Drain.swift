import NIOCore
import NIOEmbedded

extension EmbeddedChannel {
    /// Every byte written out on the channel since the last call.
    public func drainOutbound() -> [UInt8] {
        var bytes: [UInt8] = []
        while let part = try? readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { bytes += buffer.readableBytesView }
        }
        return bytes
    }
}
