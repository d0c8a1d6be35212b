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
        let percents = CPUUtilization.percents(
            [(busy.from, busy.to, inServiceSince: 0.5), (idle.from, idle.to, inServiceSince: -60)], now: 1, warmup: 30)
        #expect(percents.map { ($0 * 1000).rounded() / 1000 } == [10])
        #expect(CPUUtilization.percents([(busy.from, busy.to, inServiceSince: 0.5)], now: 1, warmup: 30).isEmpty)
    }

    /// The HPA's rule for instances without a value: as 0 % when the others are above the target,
    /// as 100 % when below; no change when that turns the direction.
    @Test func instancesWithoutAValueCountAgainstTheDirection() {
        func adjusted(_ average: Double, _ counted: Int, of total: Int) -> Double {
            CPUUtilization.adjusted(average: average, counted: counted, total: total, target: 60)
        }
        #expect(adjusted(90, 2, of: 2) == 90)
        // Two at 90 %, one just launched: (90 + 90 + 0) / 3 = 60 … not above 60: hold at the target.
        #expect(adjusted(90, 2, of: 3) == 60)
        // Two at 120 % (process instances can), one unread: 80 > 60 still scales out.
        #expect(adjusted(120, 2, of: 3) == 80)
        // Two idle at 10 %, one unread: (10 + 10 + 100) / 3 = 40 < 60, a scale-in on what is seen.
        #expect(adjusted(10, 2, of: 3) == 40)
        // One at 40 %, three unread: (40 + 300) / 4 = 85 would turn it into a scale-out: hold.
        #expect(adjusted(40, 1, of: 4) == 60)
    }
}
