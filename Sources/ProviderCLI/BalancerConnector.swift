import AutoscalerAPI
import AutoscalerClient
import HAProxyRuntime

/// The balancer a URL names, for `scheduler --balancer`, `scale-up --register` and
/// `scale-down --drain`: this project's admin API (`http://127.0.0.1:8081`) or a stock HAProxy's
/// Runtime API (`haproxy:/run/haproxy/admin.sock`, `haproxy://127.0.0.1:9999`).
public enum BalancerConnector {
    /// Checks `url` and makes the client; nothing is sent yet. `token` is for the admin API,
    /// `haproxyBackend` the backend instances join in HAProxy.
    public static func balancer(url: String, token: String?, haproxyBackend: String) throws -> any Balancer {
        if HAProxyAddress.isHAProxy(url) {
            return try HAProxyBalancer(url: url, configuration: .init(backend: haproxyBackend))
        }
        return try BalancerAdminClient(url: url, token: token)
    }
}
