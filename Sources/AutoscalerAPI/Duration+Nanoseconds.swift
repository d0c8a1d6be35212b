extension Duration {
    /// The whole duration in nanoseconds (saturating), for APIs that take `TimeAmount` or `Int64`.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole + attoseconds / 1_000_000_000
    }

    /// The whole duration in milliseconds.
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }

    /// The duration in seconds as a `Double`.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}
