public import Foundation
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

    /// The wall-clock part as a `Date` (to the millisecond): when the event was recorded, by the
    /// recording device's clock as corrected by the hybrid logical clock.
    public var date: Date { Date(timeIntervalSince1970: Double(physicalMilliseconds) / 1000) }

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
///
/// Readings stay bounded: a clock that was pushed far ahead of wall time (a device whose clock
/// ran ahead before it learned the server's time) starts again from wall time once it is more
/// than ``maxAheadMilliseconds`` ahead, instead of carrying a wrong time forever. Nothing in
/// the merge depends on one replica's readings only growing: events are ordered per replica by
/// counter, and resets by what they saw.
package struct HybridLogicalClock: Hashable, Sendable {
    /// How far ahead of wall time a reading may run before the clock starts again from wall time
    /// (one minute).
    package static let maxAheadMilliseconds: Int64 = 60_000

    /// The greatest timestamp handed out or received.
    package private(set) var latest: HLCTimestamp

    package init(latest: HLCTimestamp = HLCTimestamp(rawValue: 0)) {
        self.latest = latest
    }

    /// A new timestamp for a local event at wall time `now` (milliseconds since 1970).
    package mutating func tick(now: Int64) -> HLCTimestamp {
        let wall = now &* 1000
        let base = latest.physicalMilliseconds > now &+ Self.maxAheadMilliseconds ? 0 : latest.rawValue &+ 1
        latest = HLCTimestamp(rawValue: max(wall, base))
        return latest
    }

    /// Takes a timestamp seen from another replica into account, so later ticks order after it;
    /// a timestamp more than ``maxAheadMilliseconds`` ahead of `now` is not taken in.
    package mutating func receive(_ remote: HLCTimestamp, now: Int64) {
        if remote > latest, remote.physicalMilliseconds <= now &+ Self.maxAheadMilliseconds { latest = remote }
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
