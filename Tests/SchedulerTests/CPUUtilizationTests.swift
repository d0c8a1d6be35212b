import Scheduler
import Testing

@Suite("cpu metric from CPU-time counters")
struct CPUUtilizationTests {
    typealias Sample = CPUUtilization.Sample

    @Test func percentOfTheVCPUs() {
        // 1.5 s of CPU over 1 s on 2 vCPUs: 75 %.
        #expect(CPUUtilization.percent(from: Sample(cpuTime: .seconds(10), vcpus: 2, at: 100), to: Sample(cpuTime: .milliseconds(11_500), vcpus: 2, at: 101)) == 75)
        // A counter that went back (a restart), or no time passed: no reading.
        #expect(CPUUtilization.percent(from: Sample(cpuTime: .seconds(10), vcpus: 1, at: 0), to: Sample(cpuTime: .seconds(1), vcpus: 1, at: 1)) == nil)
        #expect(CPUUtilization.percent(from: Sample(cpuTime: .seconds(1), vcpus: 1, at: 5), to: Sample(cpuTime: .seconds(2), vcpus: 1, at: 5)) == nil)
    }

    @Test func warmingInstancesAreLeftOut() {
        let busy = (from: Sample(cpuTime: .zero, vcpus: 1, at: 0), to: Sample(cpuTime: .milliseconds(900), vcpus: 1, at: 1))
        let idle = (from: Sample(cpuTime: .zero, vcpus: 1, at: 0), to: Sample(cpuTime: .milliseconds(100), vcpus: 1, at: 1))
        // The busy one has just booted: only the idle one counts.
        let average = CPUUtilization.average(
            [(busy.from, busy.to, inServiceSince: 0.5), (idle.from, idle.to, inServiceSince: -60)], now: 1, warmup: 30)
        #expect(average.map { ($0 * 1000).rounded() / 1000 } == 10)
        #expect(CPUUtilization.average([(busy.from, busy.to, inServiceSince: 0.5)], now: 1, warmup: 30) == nil)
    }
}
