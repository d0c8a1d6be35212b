import AutoscalerAPI
import FuzzSupport
import HAProxyRuntime
import Scheduler

/// The CSV the project reads: request-rate traces (`clientsim trace`, `scheduler simulate`), also
/// replayed through the simulator when short, and HAProxy's `show stat` answer.
@main
enum CSVFuzzer {
    static func main() {
        FuzzDriver.run { input in
            switch input.choice() % 2 {
            case 0: trace(&input)
            default: _ = try? ShowStat(csv: input.text, backend: "web").balancerStats
            }
        }
    }

    /// A parsed trace has rows with finite times ≥ 0 that increase and finite rates ≥ 0; one
    /// short enough is simulated with a capacity from the input.
    static func trace(_ input: inout FuzzInput) {
        let capacity = Double(input.choice() % 50) + 0.5
        guard let trace = try? Trace.parse(input.text) else { return }
        var previous = -1.0
        for point in trace.points {
            FuzzDriver.require(point.seconds.isFinite && point.seconds > previous && point.rate.isFinite && point.rate >= 0, "row \(point)")
            previous = point.seconds
        }
        FuzzDriver.require(trace.rate(at: trace.points[0].seconds) == trace.points[0].rate, "the first row's rate")
        guard trace.end - trace.points[0].seconds <= 600 else { return }
        var configuration = TraceSimulator.Configuration()
        configuration.capacity = capacity
        configuration.startup = 5
        let result = TraceSimulator(configuration: configuration).run(trace)
        FuzzDriver.require(result.instanceSeconds >= 0, "instance-seconds \(result.instanceSeconds)")
    }
}
