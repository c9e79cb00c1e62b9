public import Foundation
public import LearnSync
import LearnSyncMerge
import LearnSyncProtocol
import LearnSyncStorage
public import LearnSyncModels

/// A URLSession transport whose server address can change, as when a server restarts on a
/// new port.
public final class SwitchableTransport: SyncTransport {
    private let url: Locked<URL>

    public init(_ url: URL) { self.url = Locked(url) }

    /// Points the transport at another server address.
    public func switchTo(_ newURL: URL) { url.withLock { $0 = newURL } }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        try await URLSessionTransport(baseURL: url.withLock { $0 }).send(request)
    }

    /// Opens a stream to the current address (a stream open before a switch stays on the old one).
    public func openStream(_ request: TransportRequest) async throws -> TransportStream {
        try await URLSessionTransport(baseURL: url.withLock { $0 }).openStream(request)
    }
}

/// Counts the body bytes a transport carries as they go on the wire: a request's body as sent
/// (compressed if it is), an answer's by its `Content-Length` (URLSession hands over gzip
/// answers decoded, but keeps the header), or its body when it has none.
public final class CountingTransport: SyncTransport {
    private let inner: any SyncTransport
    private let counted = Locked((sent: 0, received: 0, requests: 0))

    public init(_ inner: any SyncTransport) { self.inner = inner }

    /// Request body bytes.
    public var sent: Int { counted.withLock { $0.sent } }
    /// Answer body bytes.
    public var received: Int { counted.withLock { $0.received } }
    /// Requests sent, streams opened included.
    public var requests: Int { counted.withLock { $0.requests } }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        let response = try await inner.send(request)
        let received = response.header("Content-Length").flatMap(Int.init) ?? response.body.count
        counted.withLock {
            $0.sent += request.body.count
            $0.received += received
            $0.requests += 1
        }
        return response
    }

    /// Opens the inner transport's stream (its bytes are not counted).
    public func openStream(_ request: TransportRequest) async throws -> TransportStream {
        counted.withLock { $0.requests += 1 }
        return try await inner.openStream(request)
    }
}

/// The system clock shifted by an adjustable offset, to play a device whose clock is wrong.
public final class OffsetWallClock: WallClock {
    private let offset = Locked<Int64>(0)
    private let base: any WallClock

    public init(base: any WallClock = SystemWallClock()) { self.base = base }

    /// Sets how far ahead (positive) or behind the device's clock is, in milliseconds.
    public func setOffset(milliseconds: Int64) { offset.withLock { $0 = milliseconds } }

    public func millisecondsSince1970() -> Int64 { base.millisecondsSince1970() + offset.withLock { $0 } }
}

/// Server processes behind one address, as a load balancer sees them: each request goes to a
/// live one, picked at random, so a device's sync rounds (and the retries of one round) land on
/// different processes. A process taken out (killed) gets no more requests; requests already
/// on their way to it fail as a connection reset would.
public final class ServerPool: Sendable {
    private let state: Locked<(live: [URL], generator: SeededGenerator)>

    public init(_ urls: [URL], seed: UInt64) {
        precondition(!urls.isEmpty, "a pool needs a server")
        state = Locked((urls, SeededGenerator(seed: seed)))
    }

    /// Takes a process out of the pool (its health check failed).
    public func remove(_ url: URL) {
        state.withLock { state in
            if state.live.count > 1 { state.live.removeAll { $0 == url } }
        }
    }

    /// A transport through the pool.
    public var transport: any SyncTransport { PooledTransport(pool: self) }

    fileprivate func pick() -> URL {
        state.withLock { state in state.live.randomElement(using: &state.generator)! }
    }
}

private struct PooledTransport: SyncTransport {
    let pool: ServerPool

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        try await URLSessionTransport(baseURL: pool.pick()).send(request)
    }
}
