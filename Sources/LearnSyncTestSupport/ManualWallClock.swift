public import LearnSyncModels

/// A wall clock that only moves when told to, for deterministic tests and simulations.
public final class ManualWallClock: WallClock {
    private let now: Locked<Int64>

    /// Starts at `millisecondsSince1970` (default: 2026-01-01T00:00:00Z).
    public init(millisecondsSince1970: Int64 = 1_767_225_600_000) {
        now = Locked(millisecondsSince1970)
    }

    public func millisecondsSince1970() -> Int64 { now.withLock { $0 } }

    /// Moves the clock forward (or back, to simulate a skewed device).
    public func advance(milliseconds: Int64) { now.withLock { $0 += milliseconds } }

    /// Sets the clock.
    public func set(millisecondsSince1970 value: Int64) { now.withLock { $0 = value } }
}
