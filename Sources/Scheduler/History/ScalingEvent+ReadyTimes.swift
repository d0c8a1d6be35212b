extension ScalingEvent {
    /// How long scale-ups took to serve, from a history: each `scale_up` event to the `register`
    /// of the instance it made (its reason starts "serves at"; registrations of instances found
    /// running say otherwise). `events` in time order.
    public static func readyTimes(_ events: [ScalingEvent]) -> [Double] {
        var times: [Double] = []
        var pending: Double?
        for event in events {
            switch event.kind {
            case .scaleUp, .replace:
                pending = event.time
            case .register where event.reason.hasPrefix("serves at"):
                if let started = pending { times.append(event.time - started) }
                pending = nil
            case .failure:
                pending = nil
            default:
                break
            }
        }
        return times
    }

    /// The median of `times`; nil when empty.
    public static func median(_ times: [Double]) -> Double? {
        guard !times.isEmpty else { return nil }
        let sorted = times.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
