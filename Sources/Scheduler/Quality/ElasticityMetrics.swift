/// The SPEC Research Group's elasticity metrics of a supply series against a demand series, both
/// in instances, sampled every `step` seconds: how much and how long capacity was missing or
/// wasted, and how unsteady the adaptations were. One pure type, used by `scheduler simulate`
/// and by the live history alike.
///
/// Definitions (d demand, s supply, T samples, x⁺ = max(x, 0), Δx_t = x_t − x_{t−1}), after Herbst
/// et al., "Ready for Rain? A View from SPEC Research on the Future of Cloud Metrics"
/// (SPEC-RG-2016-01) and Ilyushkin et al., "An Experimental Performance Evaluation of
/// Autoscaling Policies for Complex Workflows" (ICPE 2017), which split instability in two:
/// - θ_U = 100/T · Σ (d_t − s_t)⁺ / max(d_t, ε), θ_O = 100/T · Σ (s_t − d_t)⁺ / max(d_t, ε): the
///   average share of the demand missing or in excess, in %;
/// - a_U = Σ (d_t − s_t)⁺ / (T · R), a_O = Σ (s_t − d_t)⁺ / (T · R): the same in instances,
///   normalised by the most instances there may be (R, the group's maximum), in %;
/// - τ_U = 100/T · Σ [d_t > s_t], τ_O = 100/T · Σ [s_t > d_t]: the share of time under- or
///   over-provisioned, in %;
/// - k = 100/(T−1) · Σ_{t≥2} min((sgn Δs_t − sgn Δd_t)⁺, 1), k′ the same with (sgn Δd_t − sgn Δs_t)⁺:
///   the share of steps where supply moves up (or does not follow down) against demand, and
///   where it fails to follow demand up (or moves down against it), in %;
/// - jitter = (E_S − E_D) per minute, E counting the steps where supply and demand change:
///   negative when supply adapts less often than demand changes, positive when it oscillates.
/// BUNGEE's implementation differs in units (θ in instances, per-minute jitter counting
/// instances changed); these follow the papers.
public struct ElasticityMetrics: Sendable, Equatable, Codable {
    public var thetaU: Double
    public var thetaO: Double
    public var aU: Double
    public var aO: Double
    public var tauU: Double
    public var tauO: Double
    public var instability: Double
    public var instabilityPrime: Double
    public var jitter: Double

    /// Demand below this counts as this when dividing by it (demand 0 with supply 1 is 100 %).
    static let epsilon = 1.0

    /// The metrics of `supply` against `demand` (the same length, at least one sample),
    /// `step` seconds apart; `maximum` is R of a_U and a_O.
    public init(demand: [Double], supply: [Double], step: Double, maximum: Double) {
        precondition(demand.count == supply.count && !demand.isEmpty, "one supply sample per demand sample")
        let count = Double(demand.count)
        var under = 0.0, over = 0.0, underUnits = 0.0, overUnits = 0.0, underSteps = 0.0, overSteps = 0.0
        for (d, s) in zip(demand, supply) {
            under += max(d - s, 0) / max(d, Self.epsilon)
            over += max(s - d, 0) / max(d, Self.epsilon)
            underUnits += max(d - s, 0)
            overUnits += max(s - d, 0)
            if d > s { underSteps += 1 }
            if s > d { overSteps += 1 }
        }
        var k = 0.0, kPrime = 0.0, supplyChanges = 0.0, demandChanges = 0.0
        for t in demand.indices.dropFirst() {
            let ds = Self.sign(supply[t] - supply[t - 1])
            let dd = Self.sign(demand[t] - demand[t - 1])
            k += min(max(ds - dd, 0), 1)
            kPrime += min(max(dd - ds, 0), 1)
            if ds != 0 { supplyChanges += 1 }
            if dd != 0 { demandChanges += 1 }
        }
        let steps = max(count - 1, 1)
        thetaU = 100 * under / count
        thetaO = 100 * over / count
        aU = 100 * underUnits / (count * max(maximum, 1))
        aO = 100 * overUnits / (count * max(maximum, 1))
        tauU = 100 * underSteps / count
        tauO = 100 * overSteps / count
        instability = 100 * k / steps
        instabilityPrime = 100 * kPrime / steps
        jitter = (supplyChanges - demandChanges) / (count * step / 60)
    }

    private static func sign(_ value: Double) -> Double {
        value > 0 ? 1 : (value < 0 ? -1 : 0)
    }
}
