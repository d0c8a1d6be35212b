import AutoscalerAPI
import Foundation

extension ProcessProvider {
    /// Settings of the process provider.
    ///
    /// Defaults: state in `$AUTOSCALER_STATE_DIR`, else `$XDG_STATE_HOME/autoscaler`, else
    /// `~/.local/state/autoscaler`; the `webserver` executable next to the running one; instances on
    /// 127.0.0.1 with a port the kernel picks; names `web_vm<N>`; 5 s to start.
    public struct Configuration: Sendable, Hashable {
        public var stateDirectory: String
        public var webserverPath: String
        public var host: String
        public var naming: InstanceNaming
        /// More arguments for each `webserver`, e.g. `["--threads", "1"]`.
        public var extraArguments: [String]
        /// How long a new process may take to bind its port.
        public var startTimeout: Duration

        public init(
            stateDirectory: String = Configuration.defaultStateDirectory,
            webserverPath: String = Configuration.defaultWebserverPath,
            host: String = "127.0.0.1",
            naming: InstanceNaming = InstanceNaming(),
            extraArguments: [String] = [],
            startTimeout: Duration = .seconds(5)
        ) {
            self.stateDirectory = stateDirectory
            self.webserverPath = webserverPath
            self.host = host
            self.naming = naming
            self.extraArguments = extraArguments
            self.startTimeout = startTimeout
        }

        /// Where the autoscaler keeps state when not told otherwise.
        public static var defaultStateDirectory: String { APIToken.stateDirectory }

        /// `webserver` beside the running executable, as `swift build` lays them out (test bundles
        /// sit in the same directory on Linux).
        public static var defaultWebserverPath: String {
            let executable =
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "webserver").standardizedFileURL.path
            return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("webserver").path
        }
    }
}
