/// A failure a user can act on, with a one-line message and the exit code the CLIs use.
public enum AutoscalerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libvirt's daemon cannot be reached at `uri`.
    case hypervisorUnavailable(uri: String, reason: String)
    case templateMissing(String)
    case templateRunning(String)
    case nameTaken(String)
    case invalidName(String)
    case noFreePort(ClosedRange<Int>)
    /// The instance did not answer HTTP in time (it has been removed again).
    case timeout(instance: String, seconds: Int)
    case notFound(String)
    /// The instance exists but the autoscaler did not create it, so it will not delete it.
    case notManaged(String)
    case noManagedInstance
    case balancer(String)
    case provider(String)

    public var description: String {
        switch self {
        case .hypervisorUnavailable(let uri, let reason):
            "cannot connect to libvirt at \(uri): \(reason). Start the daemons with `virtlogd -d && libvirtd -d` "
                + "(or `systemctl start libvirtd`), or run scripts/setup-libvirt.sh"
        case .templateMissing(let name):
            "template domain '\(name)' does not exist; create it with scripts/setup-libvirt.sh or pass --template"
        case .templateRunning(let name):
            "template domain '\(name)' is running; shut it down first (`virsh shutdown \(name)`), a running disk cannot be cloned safely"
        case .nameTaken(let name):
            "an instance named '\(name)' already exists; pick another --name"
        case .invalidName(let name):
            "'\(name)' is not a valid instance name (letters, digits, '_', '-', '.'; at most 64)"
        case .noFreePort(let range):
            "no free loopback port in \(range.lowerBound)-\(range.upperBound) for the new instance"
        case .timeout(let instance, let seconds):
            "\(instance) did not answer HTTP within \(seconds) s; it was removed again (raise --timeout for slow hosts)"
        case .notFound(let name):
            "no instance named '\(name)'"
        case .notManaged(let name):
            "'\(name)' was not created by the autoscaler; refusing to delete it"
        case .noManagedInstance:
            "there is no instance created by the autoscaler to remove"
        case .balancer(let reason):
            "load balancer: \(reason)"
        case .provider(let reason):
            reason
        }
    }

    /// The process exit code for this error; documented in the README.
    public var exitCode: Int32 {
        switch self {
        case .hypervisorUnavailable: 3
        case .templateMissing: 4
        case .templateRunning: 5
        case .nameTaken, .invalidName: 6
        case .noFreePort: 7
        case .timeout: 8
        case .notFound, .noManagedInstance: 9
        case .notManaged: 10
        case .balancer: 11
        case .provider: 1
        }
    }
}
