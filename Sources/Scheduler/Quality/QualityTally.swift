/// What a stretch of time cost and how well its capacity kept up, tallied sample by sample: the
/// one computation behind `scheduler simulate` and `GET /api/v1/quality`. The demand of a sample
/// is `ceil(rate / capacity)` instances; its supply, the instances in service.
public struct QualityTally: Sendable {
    /// Requests per second one instance serves.
    public let capacity: Double
    /// The grid of the metrics' series, seconds.
    public let step: Double
    public private(set) var seconds = 0.0
    /// Instances in existence (serving or starting) times seconds: what they cost.
    public private(set) var instanceSeconds = 0.0
    /// Seconds in which fewer instances served than the demand.
    public private(set) var underProvisionedSeconds = 0.0
    private var demandSeries: [Double] = []
    private var supplySeries: [Double] = []

    public init(capacity: Double, step: Double, expectedSamples: Int = 0) {
        self.capacity = capacity
        self.step = max(step, 0.001)
        demandSeries.reserveCapacity(expectedSamples)
        supplySeries.reserveCapacity(expectedSamples)
    }

    /// The demand, in instances, of `rate` requests per second.
    public func demand(for rate: Double) -> Int {
        capacity > 0 ? Int(saturating: (rate / capacity).rounded(.up)) : 0
    }

    /// A sample standing for `span` seconds (laid on the grid as `span / step` points).
    public mutating func add(rate: Double, inService: Int, pending: Int, span: Double) {
        let demand = Double(demand(for: rate))
        let supply = Double(inService)
        seconds += span
        instanceSeconds += Double(inService + pending) * span
        if supply < demand { underProvisionedSeconds += span }
        for _ in 0..<max(1, Int(saturating: (span / step).rounded())) {
            demandSeries.append(demand)
            supplySeries.append(supply)
        }
    }

    /// The elasticity metrics of what was added; nil before anything was.
    public func metrics(maximum: Int) -> ElasticityMetrics? {
        demandSeries.isEmpty ? nil : ElasticityMetrics(demand: demandSeries, supply: supplySeries, step: step, maximum: Double(maximum))
    }
}
