import Foundation
import FuzzSupport
import SchedulerCLI

/// The scheduler's `--config` JSON file through the code `scheduler` runs before it starts
/// anything: decoding, the merge with flags and defaults, and its checks. Any input is either a
/// configuration or a usage error.
@main
enum ConfigFileFuzzer {
    static let path = NSTemporaryDirectory() + "autoscaler-fuzz-config-\(getpid()).json"
    /// Parsed once: the flags stay the same and the file is read at each check (parsing the
    /// command line each time made it 50 times slower).
    static let serve = try! Serve.parse(["--config", path])

    static func main() {
        atexit { unlink(ConfigFileFuzzer.path) }
        FuzzDriver.run { input in
            guard FileManager.default.createFile(atPath: path, contents: Data(input.rest)) else {
                return FuzzDriver.require(false, "cannot write \(path)")
            }
            guard let (configuration, _) = try? serve.checkedConfiguration() else { return }
            FuzzDriver.require(configuration.rules.minimum <= configuration.rules.maximum, "min above max")
            FuzzDriver.require(configuration.interval > .zero && configuration.window > .zero, "a zero interval or window")
        }
    }
}
