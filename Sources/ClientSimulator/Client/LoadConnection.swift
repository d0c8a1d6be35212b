import HTTP1Wire
import NIOCore

/// One kept-alive connection of a ``LoadClient``: a request at a time, its answer decoded as it
/// comes. Confined to the client's event loop.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    unowned let client: LoadClient
    /// Due time of the request waiting for the connection to be made.
    var pending: NIODeadline?
    /// Due time of the request on the wire.
    var due: NIODeadline?
    private var context: ChannelHandlerContext?
    private var decoder = HTTP1Decoder(kind: .response)
    private var status = 0
    private var instance: String?
    private var keepAlive = true

    init(client: LoadClient) {
        self.client = client
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func send(_ request: ByteBuffer, due: NIODeadline) {
        self.due = due
        status = 0
        instance = nil
        context?.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.receive(unwrapInboundIn(data))
        do {
            while let event = try decoder.next() {
                switch event {
                case .head(let head):
                    guard !head.isInterim else { continue }
                    status = head.status
                    keepAlive = head.isKeepAlive
                    // The balancer names the instance that answered.
                    if let field = head.fields.first(where: { head.nameEquals($0, "x-instance") }) { instance = head.value(of: field) }
                case .body:
                    break
                case .end:
                    guard let due else {
                        // An answer to nothing: the server is confused.
                        context.close(promise: nil)
                        return
                    }
                    self.due = nil
                    let error: ErrorKind? = status >= 500 ? .http5xx : status >= 400 ? .http4xx : nil
                    client.completed(self, error: error, instance: instance, due: due, reusable: keepAlive && context.channel.isActive)
                }
            }
        } catch {
            fail(.other, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body that ends with the close ends its request well.
        if due != nil, let event = try? decoder.finish(), case .end = event, let due {
            self.due = nil
            let error: ErrorKind? = status >= 500 ? .http5xx : status >= 400 ? .http4xx : nil
            client.completed(self, error: error, instance: instance, due: due, reusable: false)
            return
        }
        let due = self.due
        self.due = nil
        client.failed(self, error: .connection, due: due)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(ClientSimulator.classify(error), context: context)
    }

    private func fail(_ kind: ErrorKind, context: ChannelHandlerContext) {
        let due = self.due
        self.due = nil
        client.failed(self, error: kind, due: due)
        context.close(promise: nil)
    }
}
