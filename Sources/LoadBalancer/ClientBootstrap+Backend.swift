import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// A connection to `backend`: to its address when it has one, else by name.
    func connect(to backend: Backend) -> EventLoopFuture<any Channel> {
        if let address = backend.address { return connect(to: address) }
        return connect(host: backend.endpoint.host, port: backend.endpoint.port)
    }
}
