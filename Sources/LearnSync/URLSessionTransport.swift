public import Foundation
public import LearnSyncProtocol
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A ``SyncTransport`` over Foundation's `URLSession` (FoundationNetworking on Linux).
public struct URLSessionTransport: SyncTransport {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    public let baseURL: URL
    /// How long one request may take in all, in seconds, from sending it to the last byte of its
    /// answer (30): past it, ``send(_:)`` throws `URLError(.timedOut)` whatever the server does
    /// (accepts and never answers, drips a byte at a time, sends without end).
    public var timeout: TimeInterval
    /// How long a ``download(_:to:cap:)`` (a server export written to a file) may take in all, in
    /// seconds (15 minutes).
    public var downloadTimeout: TimeInterval = 900
    /// The most bytes an answer may have once URLSession has decoded it (gzip): past it, the
    /// download stops and ``send(_:)`` throws `URLError(.dataLengthExceedsMaximum)`, so a hostile
    /// server cannot fill the device's memory with a small compressed body.
    public var maxAnswerBytes: Int

    public init(baseURL: URL, timeout: TimeInterval = 30, maxAnswerBytes: Int = ProtocolLimits.maxAnswerBytes) {
        self.baseURL = baseURL
        self.timeout = timeout
        self.maxAnswerBytes = maxAnswerBytes
    }

    /// Refuses plain `http://` to any host but this machine (`localhost`, `127.0.0.0/8`, `::1`):
    /// passwords and tokens would cross the network in the clear.
    /// - Throws: ``SyncError`` `refused`.
    public static func checkSecure(_ url: URL, allowInsecureHTTP: Bool = false) throws {
        guard url.scheme?.lowercased() == "http", !allowInsecureHTTP else { return }
        let host = (url.host ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard host == "localhost" || host == "::1" || host.hasPrefix("127.") else {
            throw SyncError(.refused, "plain http:// to \(host) would send passwords and tokens in the clear")
        }
    }

    /// One session for every transport: no cache (sync answers are never reused, and learner
    /// data must not linger in a cache), no cookies; answers gathered under a cap.
    private static let downloads = CappedDownloads()
    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        return URLSession(configuration: configuration, delegate: downloads, delegateQueue: nil)
    }()

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        let urlRequest = urlRequest(request), cap = maxAnswerBytes
        let (data, response) = try await Self.within(timeout, urlRequest.url) {
            try await Self.downloads.data(for: urlRequest, cap: cap, on: Self.session)
        }
        return try Self.transportResponse(data, response)
    }

    /// Runs `body`, or throws `URLError(.timedOut)` once `seconds` have passed, cancelling it.
    /// URLSession's own `timeoutInterval` bounds only the wait between two bytes, and on Linux
    /// not even that (each try waited 60 s, whatever it was set to).
    static func within<T: Sendable>(_ seconds: TimeInterval, _ url: URL?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                let target = url.map { "\($0.scheme ?? "http")://\($0.host ?? "")\($0.port.map { ":\($0)" } ?? "")\($0.path)" } ?? "the server"
                throw URLError(.timedOut, userInfo: [NSLocalizedDescriptionKey: "no complete answer from \(target) within \(seconds.formatted()) s"])
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private func urlRequest(_ request: TransportRequest) -> URLRequest {
        var urlRequest = URLRequest(url: url(for: request.path), timeoutInterval: timeout)
        urlRequest.httpMethod = request.method
        // No body at all rather than an empty one: on Linux, URLSession takes an empty body of a
        // GET as an upload still to come, and polls the socket for writing for as long as the
        // answer lasts (a live stream spun a core).
        if !request.body.isEmpty { urlRequest.httpBody = request.body }
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        return urlRequest
    }

    private static func transportResponse(_ data: Data, _ response: URLResponse) throws -> TransportResponse {
        guard let http = response as? HTTPURLResponse else {
            throw URLError(.badServerResponse)
        }
        var headers = [String: String]()
        for case let (name as String, value as String) in http.allHeaderFields { headers[name] = value }
        return TransportResponse(status: http.statusCode, body: data, headers: headers)
    }

    /// Writes a successful answer to `file` as it arrives, through the same session and cap
    /// handling as ``send(_:)``.
    public func download(_ request: TransportRequest, to file: URL, cap: Int) async throws -> TransportResponse {
        let urlRequest = urlRequest(request)
        let (data, response) = try await Self.within(downloadTimeout, urlRequest.url) {
            try await Self.downloads.download(urlRequest, to: file, cap: cap, on: Self.session)
        }
        return try Self.transportResponse(data, response)
    }

    /// The session of ``openStream(_:)``: like the other, but a request may stay open for as
    /// long as the server keeps writing (the live stream's heartbeats).
    private static let streams = StreamingAnswers(cap: 64 * 1024)
    private static let streamSession: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.timeoutIntervalForResource = 7 * 86_400
        // Each stream holds its connection for as long as it is open: at the default limit of a
        // few connections per host, the clients of one process (a simulation, a test, an app
        // with several stores) past the limit would wait for a connection for ever.
        configuration.httpMaximumConnectionsPerHost = 4096
        return URLSession(configuration: configuration, delegate: streams, delegateQueue: nil)
    }()

    /// Opens a streamed answer (the live stream). Its head must arrive within ``timeout``; then
    /// the stream stays open while bytes keep coming, and ends when none came for three
    /// heartbeats (the connection is taken for dead).
    ///
    /// On Linux, FoundationNetworking keeps a write source armed on the stream's socket, so an
    /// open stream keeps most of a core busy; live sync there is for tests and tools. Pass
    /// ``LiveSyncOptions/usesStream`` `false` to sync at the poll interval instead.
    public func openStream(_ request: TransportRequest) async throws -> TransportStream {
        var urlRequest = urlRequest(request)
        urlRequest.timeoutInterval = TimeInterval(3 * LiveStreamLimits.heartbeatSeconds)
        return try await Self.within(timeout, urlRequest.url) { [urlRequest] in
            try await Self.streams.open(urlRequest, on: Self.streamSession)
        }
    }

    /// The base URL with `path` appended, keeping a query (`/v1/export?format=xapi`) a query.
    func url(for path: String) -> URL {
        let parts = path.split(separator: "?", maxSplits: 1)
        let url = baseURL.appendingPathComponent(String(parts.first ?? ""))
        guard parts.count == 2, var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url }
        components.percentEncodedQuery = String(parts[1])
        return components.url ?? url
    }
}
