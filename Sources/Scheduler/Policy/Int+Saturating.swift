extension Int {
    /// `value` as an Int, held to ±2^62 and 0 for NaN: a count derived from rates and ratios
    /// (demand, a target-tracking recommendation, a forecast's need) must never trap on a
    /// counter that jumped or a forecast that ran away (the trap `scripts/fuzz.sh csv` found in
    /// the simulator's counter, closed where the other conversions were too).
    init(saturating value: Double) {
        guard !value.isNaN else {
            self = 0
            return
        }
        self = Int(Swift.min(Swift.max(value, -4.6e18), 4.6e18))
    }
}
