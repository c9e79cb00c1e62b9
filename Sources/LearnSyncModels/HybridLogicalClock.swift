/// A hybrid logical clock reading: `physicalMilliseconds * 1000 + logical`.
///
/// One 64-bit number keeps timestamps totally ordered, close to wall time, and safe as a JSON
/// number (below 2^53 until the year 2255). The logical part counts events within one
/// millisecond; past 999 it carries into the millisecond, which keeps the clock monotonic.
public struct HLCTimestamp: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// The timestamp at the start of a wall-clock millisecond.
    public init(physicalMilliseconds: Int64) { rawValue = physicalMilliseconds &* 1000 }

    /// The wall-clock part, in milliseconds since 1970.
    public var physicalMilliseconds: Int64 { rawValue / 1000 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "\(physicalMilliseconds).\(rawValue % 1000)" }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The source of wall time for a ``HybridLogicalClock``; inject a manual one in tests.
public protocol WallClock: Sendable {
    /// Milliseconds since 1970-01-01 UTC.
    func millisecondsSince1970() -> Int64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func millisecondsSince1970() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// A hybrid logical clock (Kulkarni et al.): every timestamp it hands out is greater than every
/// one it handed out or received before, and stays close to wall time.
///
/// ```swift
/// var clock = HybridLogicalClock()
/// let a = clock.tick(now: 1_700_000_000_000)
/// clock.receive(remote)           // from another replica
/// let b = clock.tick(now: 1_700_000_000_000)   // b > a and b > remote
/// ```
public struct HybridLogicalClock: Hashable, Sendable {
    /// The greatest timestamp handed out or received.
    public private(set) var latest: HLCTimestamp

    public init(latest: HLCTimestamp = HLCTimestamp(rawValue: 0)) {
        self.latest = latest
    }

    /// A new timestamp for a local event at wall time `now` (milliseconds since 1970).
    public mutating func tick(now: Int64) -> HLCTimestamp {
        latest = HLCTimestamp(rawValue: max(now &* 1000, latest.rawValue &+ 1))
        return latest
    }

    /// Takes a timestamp seen from another replica into account, so later ticks order after it.
    public mutating func receive(_ remote: HLCTimestamp) {
        if remote > latest { latest = remote }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Android)
import Android
#endif
