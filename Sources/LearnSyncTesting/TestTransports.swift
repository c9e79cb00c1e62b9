public import Foundation
public import LearnSync
public import LearnSyncModels
import Synchronization

/// A URLSession transport whose server address can change, as when a server restarts on a
/// new port.
public final class SwitchableTransport: SyncTransport {
    private let url: Mutex<URL>

    public init(_ url: URL) { self.url = Mutex(url) }

    /// Points the transport at another server address.
    public func switchTo(_ newURL: URL) { url.withLock { $0 = newURL } }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        try await URLSessionTransport(baseURL: url.withLock { $0 }).send(request)
    }
}

/// The system clock shifted by an adjustable offset, to play a device whose clock is wrong.
public final class OffsetWallClock: WallClock {
    private let offset = Mutex<Int64>(0)
    private let base: any WallClock

    public init(base: any WallClock = SystemWallClock()) { self.base = base }

    /// Sets how far ahead (positive) or behind the device's clock is, in milliseconds.
    public func setOffset(milliseconds: Int64) { offset.withLock { $0 = milliseconds } }

    public func millisecondsSince1970() -> Int64 { base.millisecondsSince1970() + offset.withLock { $0 } }
}
