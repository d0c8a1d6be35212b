/// Limits around a policy: bounds, step sizes, cooldowns, the scale-down stabilization window.
///
/// Defaults reproduce the original project: min 2, max 8, one instance per step, 30 s after any
/// action before the next (up or down), no stabilization beyond that. A step of several
/// instances launches them in parallel, at most ``maxParallelLaunches`` (default 4) at once.
public struct ScalingRules: Sendable, Equatable {
    public var minimum = 2
    public var maximum = 8
    public var maxStepUp = 1
    public var maxStepDown = 1
    /// Most instances a scale-up launches at once: a larger step (a policy's `maxStepUp`, a
    /// manual count) is made in parallel up to this many, the rest on later ticks. Scale-in
    /// stays one action at a time.
    public var maxParallelLaunches = 4
    /// Time after the last action (either way) before a scale-up.
    public var scaleUpCooldown: Duration = .seconds(30)
    /// Time after the last action (either way) before a scale-down.
    public var scaleDownCooldown: Duration = .seconds(30)
    /// A scale-down follows the highest recommendation seen over this window (0: the latest).
    public var scaleDownStabilization: Duration = .zero

    public init() {}
}
