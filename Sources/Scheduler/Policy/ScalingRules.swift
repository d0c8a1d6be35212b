/// Limits around a policy: bounds, step sizes, cooldowns, the scale-down stabilization window.
///
/// Defaults reproduce the original project: min 2, max 8, one instance per step, 30 s after any
/// action before the next (up or down), no stabilization beyond that.
public struct ScalingRules: Sendable, Equatable {
    public var minimum = 2
    public var maximum = 8
    public var maxStepUp = 1
    public var maxStepDown = 1
    /// Time after the last action (either way) before a scale-up.
    public var scaleUpCooldown: Duration = .seconds(30)
    /// Time after the last action (either way) before a scale-down.
    public var scaleDownCooldown: Duration = .seconds(30)
    /// A scale-down follows the highest recommendation seen over this window (0: the latest).
    public var scaleDownStabilization: Duration = .zero

    public init() {}
}
