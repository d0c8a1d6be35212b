extension WebServer {
    /// Settings of the instance web server.
    ///
    /// Defaults: 127.0.0.1:8000, one event loop (one "vCPU", so that `?work=` gives an instance a
    /// real, limited capacity), at most 10 s of work per request, no port file.
    public struct Configuration: Sendable, Hashable {
        public var host: String
        /// 0 lets the kernel pick a free port; see ``portFile``.
        public var port: Int
        /// What `GET /` answers and `X-Instance` says.
        public var name: String
        public var threads: Int
        /// Where to write the bound port once listening, for whoever started us.
        public var portFile: String?
        /// The most CPU time one request may ask for with `?work=`.
        public var maxWorkMilliseconds: Int
        /// For this long after it starts listening it answers every request with 503, as an
        /// application still booting would (default 0): a process instance that takes time to
        /// serve, like a VM.
        public var readyAfter: Duration = .zero

        public init(
            host: String = "127.0.0.1", port: Int = 8000, name: String, threads: Int = 1, portFile: String? = nil,
            maxWorkMilliseconds: Int = 10_000
        ) {
            self.host = host
            self.port = port
            self.name = name
            self.threads = threads
            self.portFile = portFile
            self.maxWorkMilliseconds = maxWorkMilliseconds
        }
    }
}
