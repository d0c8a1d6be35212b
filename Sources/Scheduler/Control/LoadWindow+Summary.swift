extension LoadWindow {
    /// The window's figures as the planner takes them.
    public var summary: ScalingPlanner.WindowSummary {
        ScalingPlanner.WindowSummary(requests: requestsInWindow, rate: rate, p50Seconds: latency(0.5), p99Seconds: latency(0.99))
    }
}
