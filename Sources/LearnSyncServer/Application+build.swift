import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
public import LearnSyncModels
import LearnSyncProtocol
public import Logging
import NIOCore
import ServiceLifecycle

/// Where and how to run the server.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// The TCP port; 0 picks a free one (see `onServerRunning`).
    public var port: Int
    /// The SQLite database file.
    public var databasePath: String
    /// The bcrypt cost of new password hashes (12 by default; lower only for simulations).
    public var passwordCost: UInt8
    /// How long an unattached guest is kept on the server without a sync (default 90 days).
    public var guestRetention: Duration
    /// How often the retention sweep runs (default hourly).
    public var retentionSweepInterval: Duration
    /// The address learners reach the server at (`https://learn.example.com`), which names
    /// them and their courses in xAPI exports; by default the request's `Host` over `http`.
    public var publicURL: String?
    /// How long a connection may take to send a request's head, from the moment it is ready
    /// for one (opened, or the previous answer sent; default 30 s).
    public var headTimeout: Duration = .seconds(30)
    /// How long a request's body may take after its head, and how long a client may take
    /// nothing of an answer once the connection's buffers for it are full (default 60 s).
    public var bodyTimeout: Duration = .seconds(60)
    /// Most connections open at once; more wait in the listen backlog (default 2048). Each live
    /// stream (`GET /v1/live`) holds one for as long as its device stays connected.
    public var maxConnections = 2048
    /// How often an idle live stream gets a heartbeat (default and most 15 s: devices take a
    /// stream silent for three heartbeats for dead): it keeps proxies from closing the stream,
    /// and shows a dead peer when the write fails.
    public var liveHeartbeat: Duration = .seconds(LiveStreamLimits.heartbeatSeconds)
    /// Most connections one client address may hold at once (default 128); another from it is
    /// closed as soon as it opens. A trusted proxy's connections are not capped.
    public var maxConnectionsPerAddress = 128
    /// Sign-ups one client address may make in 15 minutes (default 20), and five times as many
    /// guest registrations.
    public var signUpsPerAddress = 20
    /// Events one learner (an account with its guests, or a guest) may store (default
    /// 1,000,000: a hundred a day for 27 years); a push that could pass it is refused
    /// `quota-exceeded`.
    public var maxEventsPerLearner = 1_000_000
    /// Addresses of reverse proxies in front of the server. A request from one of them is
    /// counted (sign-in throttling) under the last address of `X-Forwarded-For` that is not a
    /// trusted proxy; any other request under its peer address, whatever it claims.
    public var trustedProxies: Set<String>
    /// Where to publish metrics (nil: nowhere, and no per-request metrics are kept).
    public var metrics: MetricsExport?
    /// The erasure journal's file, written outside the database so that a restore from an older
    /// backup never brings an erased learner back: by default `<path>.erasures` beside an
    /// embedded SQLite database; nil with PostgreSQL unless given.
    public var erasureJournal: String?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, databasePath: String = "learnsync-server.sqlite", passwordCost: UInt8 = 12,
        guestRetention: Duration = .seconds(90 * 86_400), retentionSweepInterval: Duration = .seconds(3600), publicURL: String? = nil,
        trustedProxies: Set<String> = []
    ) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.passwordCost = passwordCost
        self.guestRetention = guestRetention
        self.retentionSweepInterval = retentionSweepInterval
        self.publicURL = publicURL
        self.trustedProxies = trustedProxies
    }

    /// Every setting at its default: what `learnsync serve`'s options and ``SyncService`` start from.
    package static let defaults = ServerConfiguration()

    /// The xAPI home page for a request that arrived with `host` in its `Host` header.
    func homePage(requestHost: String?) -> String {
        if let publicURL { return publicURL }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        if let requestHost, !requestHost.isEmpty, requestHost.count <= 255, requestHost.allSatisfy(allowed.contains) {
            return "http://\(requestHost)"
        }
        return "http://\(host):\(port)"
    }
}

/// Builds the router: the protocol's endpoints over a ``SyncService``.
package func buildRouter(service: SyncService, configuration: ServerConfiguration = ServerConfiguration()) -> Router<LearnSyncRequestContext> {
    let router = Router(context: LearnSyncRequestContext.self)
    if configuration.metrics != nil { router.add(middleware: MetricsMiddleware()) }
    router.add(middleware: ProblemMiddleware(allowed: Endpoints.methods))
    router.get(RouterPath(Endpoint.health.path)) { _, _ in "ok" }
    router.post(RouterPath(Endpoint.guests.path)) { request, context in
        let body = try await readJSON(request, RegisterGuestRequest.self)
        return try jsonResponse(try await service.registerGuest(body, address: clientAddress(request, context, configuration)), status: .ok, for: request)
    }
    router.post(RouterPath(Endpoint.sync.path)) { request, context in
        let body = try await readJSON(request, SyncRequest.self)
        return try jsonResponse(try await service.sync(body, authorization: request.headers[.authorization]), status: .ok, for: request)
    }
    router.get(RouterPath(Endpoint.catalog.path)) { request, _ -> Response in
        guard let answer = service.catalogAnswer(ifNoneMatch: request.headers[.ifNoneMatch]) else {
            return Response(status: .notModified, headers: [.eTag: "W/\"\(service.catalog.fingerprint)\""])
        }
        var response = try jsonResponse(answer, status: .ok, for: request)
        // Weak: the same catalog goes out gzip-compressed or not.
        response.headers[.eTag] = "W/\"\(answer.fingerprint)\""
        return response
    }
    router.get(RouterPath(Endpoint.progress.path)) { request, _ in
        try jsonResponse(try await service.progress(authorization: request.headers[.authorization]), status: .ok, for: request)
    }
    router.post(RouterPath(Endpoint.accounts.path)) { request, context in
        let body = try await readJSON(request, CredentialsRequest.self)
        return try jsonResponse(try await service.signUp(body, address: clientAddress(request, context, configuration)), status: .created, for: request)
    }
    router.post(RouterPath(Endpoint.sessions.path)) { request, context in
        let body = try await readJSON(request, CredentialsRequest.self)
        return try jsonResponse(try await service.signIn(body, address: clientAddress(request, context, configuration)), status: .ok, for: request)
    }
    router.post(RouterPath(Endpoint.signOut.path)) { request, context in
        let body = try await readJSON(request, SignOutRequest.self)
        return try jsonResponse(try await service.signOut(body, authorization: request.headers[.authorization]), status: .ok, for: request)
    }
    router.delete(RouterPath(Endpoint.account.path)) { request, context in
        let body = try await readJSON(request, DeleteAccountRequest.self)
        return try jsonResponse(
            try await service.deleteAccount(body, authorization: request.headers[.authorization], address: clientAddress(request, context, configuration)), status: .ok, for: request)
    }
    router.post(RouterPath(Endpoint.password.path)) { request, context in
        let body = try await readJSON(request, ChangePasswordRequest.self)
        return try jsonResponse(
            try await service.changePassword(body, authorization: request.headers[.authorization], address: clientAddress(request, context, configuration)), status: .ok, for: request)
    }
    router.get(RouterPath(Endpoint.live.path)) { request, _ -> Response in
        service.liveResponse(try await service.openLiveStream(authorization: request.headers[.authorization]))
    }
    router.get(RouterPath(Endpoint.export.path)) { request, _ -> Response in
        let format: ExportWriter.Format
        switch request.uri.queryParameters.get("format") ?? "json" {
        case "json": format = .json
        case "xapi": format = .xapi(homePage: configuration.homePage(requestHost: request.head.authority))
        default: throw Problem(code: .invalidRequest, detail: "format must be json or xapi")
        }
        // The token is checked before the answer starts; the events stream after it.
        let writer = try await service.exportWriter(authorization: request.headers[.authorization], format: format)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { body in
            try await writer.write { data in try await body.write(ByteBuffer(bytes: data)) }
            try await body.finish(nil)
        })
    }
    return router
}

/// Builds the server application on `storage` (default: the SQLite file
/// ``ServerConfiguration/databasePath``).
///
/// ```swift
/// let app = try await buildApplication(configuration: .init(port: 8080), catalog: catalog)
/// try await app.runService()   // stops gracefully on SIGINT and SIGTERM
/// ```
public func buildApplication(
    configuration: ServerConfiguration, catalog: Catalog, storage: ServerStorage? = nil,
    logger: Logger = Logger(label: "learnsync.server"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    onMetricsRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let storage = storage ?? .sqlite(path: configuration.databasePath)
    let service = SyncService(
        store: try storage.open(logger), catalog: catalog, passwordCost: configuration.passwordCost, signUpsPerAddress: configuration.signUpsPerAddress,
        eventsPerLearner: configuration.maxEventsPerLearner,
        erasureJournal: (configuration.erasureJournal ?? storage.defaultErasureJournal).map(ErasureJournal.init(path:)))
    return buildApplication(
        configuration: configuration, service: service, logger: logger, onServerRunning: onServerRunning, onMetricsRunning: onMetricsRunning)
}

/// Builds the server application around a ready ``SyncService`` (its store, catalog and clock).
///
/// With ``ServerConfiguration/metrics``, the metrics listener runs beside it in its service
/// group; `onMetricsRunning` gets its port.
package func buildApplication(
    configuration: ServerConfiguration, service: SyncService, logger: Logger = Logger(label: "learnsync.server"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    onMetricsRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(service: service, configuration: configuration)
    let retention = RetentionService(
        service: service, guestRetention: configuration.guestRetention, interval: configuration.retentionSweepInterval, logger: logger)
    let head = TimeAmount(configuration.headTimeout), body = TimeAmount(configuration.bodyTimeout)
    let counts = ConnectionCounts(limit: configuration.maxConnectionsPerAddress, exempt: configuration.trustedProxies)
    // A store with a connection pool runs first and stops last, after requests in flight.
    let backed = service.store as? any ServiceBackedStore
    var app = Application(
        router: router,
        server: .http1(configuration: .init(
            additionalChannelHandlers: [AddressConnectionCap(counts), RequestDeadlineHandler(headTimeout: head, bodyTimeout: body)],
            idleTimeout: head + body)),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "learnsync",
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
        services: (backed.map { [$0] } ?? []) + [retention, LiveHeartbeat(live: service.live, interval: configuration.liveHeartbeat)]
            + (backed.map { $0.tellsLiveNotices || $0.hearsLiveNotices ? [LiveFollower(store: $0, live: service.live, announcer: service.announcer)] : [] } ?? [])
            + (configuration.metrics.map { [$0.application(headTimeout: head, bodyTimeout: body, logger: logger, onRunning: onMetricsRunning)] } ?? []),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
    // Ctrl-C or SIGTERM while the database is prepared stops at once.
    if let backed { app.beforeServerStarts { try await cancelWhenGracefulShutdown { try await backed.prepare() } } }
    // Erasures the database does not show (restored from an older backup) are made again.
    app.beforeServerStarts {
        let again = try await service.reapplyErasures()
        if again > 0 { logger.notice("erasures made again from the journal: the database was older than them", metadata: ["learners": "\(again)"]) }
    }
    // The catalog is served with every version served before (and refused if it changes one).
    app.beforeServerStarts { try await service.publish(service.catalog) }
    return app
}

/// The client address a request is counted under (see ``ServerConfiguration/trustedProxies``).
func clientAddress(_ request: Request, _ context: LearnSyncRequestContext, _ configuration: ServerConfiguration) -> String {
    clientAddress(
        peer: context.addressKey, forwardedFor: request.headers[values: .xForwardedFor].joined(separator: ","),
        trusted: configuration.trustedProxies)
}

/// The peer, or for a trusted proxy the last `X-Forwarded-For` hop that is not a trusted proxy.
package func clientAddress(peer: String, forwardedFor: String, trusted: Set<String>) -> String {
    guard trusted.contains(peer) else { return peer }
    let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    return hops.last { !trusted.contains($0) } ?? peer
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}

/// The protocol's endpoints and their methods: the router registers these, and any other method
/// on one of these paths gets `405 method-not-allowed` with `Allow`.
package enum Endpoints {
    package static let methods: [String: [HTTPRequest.Method]] = Dictionary(
        uniqueKeysWithValues: Endpoint.allCases.map { ($0.path, [HTTPRequest.Method($0.method)!]) })
}

/// Whether a `Content-Type` is JSON as the protocol takes it: `application/json`, with no
/// parameter but `charset=utf-8`.
func isJSONMediaType(_ value: String?) -> Bool {
    guard let value else { return false }
    // What clients send, checked without allocating (it showed in small syncs).
    if value.utf8.elementsEqual("application/json".utf8) { return true }
    let parts = value.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    guard parts.first == "application/json" else { return false }
    return parts.dropFirst().allSatisfy { parameter in
        let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return pair.count == 2 && pair[0] == "charset" && (pair[1] == "utf-8" || pair[1] == "\"utf-8\"")
    }
}

/// Reads a JSON body within the protocol's size limit and decodes it, version first. A body sent
/// with `Content-Encoding: gzip` or `deflate` is decoded first; the limit holds for both the
/// bytes sent and the bytes they decode to.
func readJSON<T: WireMessage>(_ request: Request, _ type: T.Type) async throws -> T {
    guard isJSONMediaType(request.headers[.contentType]) else {
        throw Problem(code: .unsupportedMediaType, detail: "send Content-Type: application/json (UTF-8)")
    }
    guard let coding = ContentCoding(contentEncoding: request.headers[.contentEncoding]) else {
        throw Problem(code: .unsupportedEncoding, detail: "send the body as it is, or with Content-Encoding: gzip or deflate")
    }
    if let length = request.headers[.contentLength].flatMap(Int.init), length > ProtocolLimits.maxBodyBytes {
        throw Problem(code: .bodyTooLarge, detail: "the body must be at most \(ProtocolLimits.maxBodyBytes) bytes")
    }
    let buffer = try await request.body.collect(upTo: ProtocolLimits.maxBodyBytes)
    var body = Data(buffer.readableBytesView)
    if coding != .identity {
        do {
            body = try ContentCoding.inflate(body, limit: ProtocolLimits.maxBodyBytes)
        } catch .tooLarge {
            throw Problem(code: .bodyTooLarge, detail: "the body must decode to at most \(ProtocolLimits.maxBodyBytes) bytes")
        } catch .malformed(let reason) {
            throw Problem(code: .malformedJSON, detail: "the \(coding) body could not be decoded: \(reason)")
        }
    }
    return try WireCoding.decodeRequest(type, from: body)
}

/// `value` as a JSON answer, gzip-compressed when the request's `Accept-Encoding` takes gzip and
/// the body is large enough to gain from it (``ContentCoding/minimumCompressedBytes``).
func jsonResponse<T: WireCodable>(_ value: T, status: HTTPResponse.Status, for request: Request) throws -> Response {
    let data = try WireCoding.encode(value)
    var headers: HTTPFields = [.contentType: "application/json", .vary: "Accept-Encoding"]
    if data.count >= ContentCoding.minimumCompressedBytes, ContentCoding.acceptsGzip(request.headers[.acceptEncoding]),
        let compressed = ContentCoding.gzip(data)
    {
        headers[.contentEncoding] = "gzip"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: compressed)))
    }
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
