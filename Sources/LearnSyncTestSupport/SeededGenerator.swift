/// A small, fast, seedable random number generator (SplitMix64), so that a randomized test or
/// simulation prints its seed and can be replayed exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The seed this generator started from.
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// A seed from the environment variable `LEARNSYNC_SEED` if set, else a random one.
    public static func seedFromEnvironment(_ name: String = "LEARNSYNC_SEED") -> UInt64 {
        if let text = getenv(name).map({ String(cString: $0) }), let seed = UInt64(text) { return seed }
        return UInt64.random(in: 0 ... .max)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
