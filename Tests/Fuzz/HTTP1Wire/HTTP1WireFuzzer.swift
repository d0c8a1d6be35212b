import FuzzSupport
import TestSupport

/// The balancer's HTTP/1.1 decoder against NIOHTTP1's, on the same bytes: a request or a response
/// (the first byte says which), fed to ours in pieces (sized by the second byte) and to NIO's whole.
///
/// Invariant: both make the same of them (``HTTP1Differential/disagreement(_:kind:piece:)``), and
/// ours neither crashes nor hangs.
@main
enum HTTP1WireFuzzer {
    static func main() {
        FuzzDriver.run { input in
            let kind: HTTP1Differential.Kind = input.choice() & 1 == 0 ? .request : .response
            let piece = Int(input.choice()) % 32 + 1
            let bytes = input.rest
            if let disagreement = HTTP1Differential.disagreement(bytes, kind: kind, piece: piece) {
                FuzzDriver.require(false, "\(String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription) in pieces of \(piece):\n\(disagreement)")
            }
        }
    }
}
