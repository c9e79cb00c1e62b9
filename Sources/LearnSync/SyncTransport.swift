public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LearnSyncModels

/// One HTTP exchange of the sync protocol, independent of the HTTP library.
public struct TransportRequest: Sendable {
    public var method: String
    /// The path below the server's base URL, e.g. `/v1/sync`.
    public var path: String
    public var headers: [String: String]
    public var body: Data

    public init(method: String = "POST", path: String, headers: [String: String] = [:], body: Data) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// The server's answer.
public struct TransportResponse: Sendable {
    public var status: Int
    public var body: Data
    /// The answer's headers (only `Retry-After` is read).
    public var headers: [String: String]

    public init(status: Int, body: Data, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// A header's value, the name matched without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// Carries protocol requests to a server. ``URLSessionTransport`` is the real one; tests use an
/// in-process one (`LearnSyncTesting`), simulations a fault-injecting one.
///
/// A transport throws only when no answer arrived (offline, timeout, connection reset); any
/// HTTP answer, errors included, is returned as a ``TransportResponse``.
public protocol SyncTransport: Sendable {
    func send(_ request: TransportRequest) async throws -> TransportResponse

    /// Sends `request` and writes a successful (2xx) answer's body to `file` as it arrives, up to
    /// `cap` bytes, instead of holding it: for answers larger than memory should hold (a server
    /// export). The file is created mode 0600, or replaced. The response's body is empty for a
    /// 2xx answer and the answer's own otherwise (a problem).
    ///
    /// The default sends with ``send(_:)`` and writes the body it returns.
    func download(_ request: TransportRequest, to file: URL, cap: Int) async throws -> TransportResponse

    /// Sends `request` and hands a successful (2xx) answer's body over as it arrives, for as long
    /// as the server keeps it open: the live stream (`GET /v1/live`) of
    /// ``LearnSyncClient/startSync(_:)``. An answer of another status comes whole, in `response`.
    ///
    /// The default throws ``TransportStreamUnsupported``: live sync then falls back to syncing at
    /// a fixed interval (``LiveSyncOptions/pollInterval``).
    func openStream(_ request: TransportRequest) async throws -> TransportStream
}

/// An answer whose body arrives as a stream (``SyncTransport/openStream(_:)``).
public struct TransportStream: Sendable {
    /// The status and headers; for a status other than 2xx, the whole body too.
    public var response: TransportResponse
    /// A 2xx answer's bytes as they arrive; it ends when the server closes the answer, and
    /// throws when the connection fails. Stopping the iteration closes the connection.
    public var bytes: AsyncThrowingStream<Data, any Error>

    public init(response: TransportResponse, bytes: AsyncThrowingStream<Data, any Error>) {
        self.response = response
        self.bytes = bytes
    }
}

/// The transport cannot keep an answer open (``SyncTransport/openStream(_:)``'s default).
public struct TransportStreamUnsupported: Error, Hashable, Sendable {
    public init() {}
}

extension SyncTransport {
    public func openStream(_ request: TransportRequest) async throws -> TransportStream {
        throw TransportStreamUnsupported()
    }

    public func download(_ request: TransportRequest, to file: URL, cap: Int) async throws -> TransportResponse {
        var response = try await send(request)
        guard (200...299).contains(response.status) else { return response }
        guard response.body.count <= cap else { throw URLError(.dataLengthExceedsMaximum) }
        try PrivateFile.replace(file.path, with: response.body)
        response.body = Data()
        return response
    }
}
