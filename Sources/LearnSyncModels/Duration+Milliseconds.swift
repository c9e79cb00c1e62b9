extension Duration {
    /// The duration in whole milliseconds, rounded down.
    package var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// The wait before the next try after `failures` failures in a row (at least 1): `base`,
    /// doubling after each failure, at most `maximum`.
    package static func backoff(after failures: Int, base: Duration, maximum: Duration) -> Duration {
        min(base * (1 << min(max(failures - 1, 0), 30)), maximum)
    }
}
