import Foundation
import LearnSyncModels
public import LearnSyncProtocol
import LearnSyncStorage
import Synchronization

/// What one `sync()` did.
public struct SyncReport: Hashable, Sendable {
    /// Round trips that got an answer.
    public var rounds = 0
    /// Events pushed and acknowledged.
    public var pushed = 0
    /// Events pulled from the server.
    public var pulled = 0
    /// Pushed events the server refused, held or for good (see ``LearnSyncClient/rejectedEvents()``).
    public var rejected = 0
    /// Pushed events moved to a new replica id and pushed again (a restored or cloned device).
    public var moved = 0
    /// Failed tries that were retried.
    public var retries = 0
    /// The server had deleted this device's guest after its retention period without a sync:
    /// the guest was registered again and every event pushed again (see
    /// ``LearnSyncClient/notice()``).
    public var guestExpired = false
}

extension LearnSyncClient {
    /// Pushes the outbox and pulls everything new, page by page, until both are done.
    ///
    /// An event leaves the outbox only once the answer acknowledging it is stored, in the same
    /// transaction as the new cursor; a lost answer just means the next round re-sends it, and
    /// the server ignores the duplicate. The first sync registers the device's guest learner.
    /// Rounds that get no answer, a 5xx or a 429 are retried under ``RetryPolicy`` (waiting at
    /// least the server's `Retry-After`); a guest whose token was refused registers again, once.
    ///
    /// - Parameter progress: called after every answered round with the running report.
    /// - Throws: ``SyncError``: `noServer`, `unreachable` (after the retry policy),
    ///   `rateLimited`, `unauthorized`, `refused` (with the server's `Problem`), `badAnswer`,
    ///   or `learnerErased` (the learner was erased: the device removed its data and is a new
    ///   guest now); `StorageError` when the device's own file fails (`database`, `busy`).
    ///
    /// Syncs of one device store take turns: a second call waits for the first to end, then runs
    /// (pushing what was recorded meanwhile), so the two never push the same events at once. Sign-ins,
    /// sign-outs, password changes and account deletions take turns with syncs too.
    @discardableResult
    public func sync(progress: (@Sendable (SyncReport) -> Void)? = nil) async throws -> SyncReport {
        try await store.syncLock.withLock { try await syncHoldingLock(progress: progress) }
    }

    /// ``sync(progress:)`` that ends once what was recorded when it started is pushed and the
    /// feed is pulled, without chasing what is recorded meanwhile: live sync's pacing, which
    /// gathers a burst of recording into a push per ``LiveSyncOptions/pushDelay``.
    func syncRecordedSoFar() async throws {
        try await store.syncLock.withLock { _ = try await syncHoldingLock(chasingRecording: false) }
    }

    /// ``sync(progress:)`` for a caller that holds the store's sync lock already.
    @discardableResult
    func syncHoldingLock(progress: (@Sendable (SyncReport) -> Void)? = nil, chasingRecording: Bool = true) async throws -> SyncReport {
        try Task.checkCancellation()
        let transport = try requireTransport()
        return try await startingOverIfErased {
            var report = SyncReport()
            // The next round's request, sent before this round's answer is stored.
            var ahead: RoundInFlight?
            defer { ahead?.answer.cancel() }
            try await drive(transport, token: true, report: &report) { token, report in
                let more = try await round(transport, token: token, ahead: &ahead, report: &report, chasingRecording: chasingRecording)
                progress?(report)
                return ((), more)
            }
            return report
        }
    }

    /// A sync request on its way: what it pushes, and its answer with the device's clock read
    /// when it was sent and when the answer came.
    struct RoundInFlight {
        let batch: OutboxBatch
        /// The cursor the request was sent with, and its mark.
        let cursor: Int64
        let mark: Int64?
        let answer: Task<(response: SyncResponse, sent: Int64, received: Int64), any Error>
    }

    /// A sync request written but for its cursor, which the answer before it brings: its JSON
    /// and, when it goes gzip-compressed, that JSON compressed so far (``ContentCoding/GzipStart``).
    /// Writing it while that answer is on its way leaves a few bytes of work between the answer
    /// and the next request.
    struct DraftRound: Sendable {
        let batch: OutboxBatch
        let start: Data
        let gzipStart: ContentCoding.GzipStart?
    }

    /// Writes `batch` as a request but for its cursor. A batch whose JSON would pass the body
    /// limit (unusually large events: long quiz answers, resets naming many runs) is cut in half
    /// until it fits; the rest goes in the next round. A request that pushes nothing asks for
    /// the largest page (``ProtocolLimits/maxPageSize``): the server reads it beside its writer,
    /// and each round has a fixed cost at both ends (a pull of 100,000 events: 0.82–0.99 s in
    /// pages of 2,000, 0.64–0.77 s in pages of 5,000).
    private func draft(_ batch: OutboxBatch) -> DraftRound {
        var batch = batch
        var start: Data
        let endBytes = SyncRequest.encodedEnd(cursor: .max, cursorMark: .max).count
        while true {
            let attested = batch.attestations.prefix(ProtocolLimits.maxAttestations).filter { attestation in
                batch.events.contains { $0.learner == attestation.guest }
            }
            start = SyncRequest(
                replica: batch.replica, lastSeq: batch.lastSeq, cursor: 0, events: batch.events,
                limit: batch.events.isEmpty ? ProtocolLimits.maxPageSize : nil,
                aliases: attested.map { Alias(guest: $0.guest, account: $0.account, proof: $0.proof) }
            ).encodedStart()
            guard start.count + endBytes > ProtocolLimits.maxBodyBytes, batch.events.count > 1 else { break }
            batch.events.removeLast(batch.events.count / 2)
        }
        let gzipStart = gzipsBody(ofBytes: start.count + endBytes) ? ContentCoding.GzipStart(start) : nil
        return DraftRound(batch: batch, start: start, gzipStart: gzipStart)
    }

    /// Sends one round's request without waiting for its answer, at `cursor` whose row the
    /// server marked `mark`.
    private func startRound(_ draft: DraftRound, cursor: Int64, mark: Int64?, _ transport: any SyncTransport, token: String?) -> RoundInFlight {
        let end = SyncRequest.encodedEnd(cursor: cursor, cursorMark: mark)
        let body = draft.start + end
        let gzipped = draft.gzipStart?.finished(with: end)
        return RoundInFlight(batch: draft.batch, cursor: cursor, mark: mark, answer: Task {
            let sent = store.clock.millisecondsSince1970()
            let response: SyncResponse = try await send(transport, method: "POST", path: Endpoint.sync.path, body: body, gzipped: gzipped, token: token)
            return (response, sent, store.clock.millisecondsSince1970())
        })
    }

    /// One round trip: push up to a batch of outbox events, pull one page, store the answer;
    /// then fetch the server's catalog if it changed.
    ///
    /// Rounds are pipelined: when an answer leaves nothing to decide first (no refusal, no new
    /// replica id, no event of the pushing replica pulled back, the catalog the device has) and
    /// there is more to push or pull, the next
    /// request goes out before this answer is stored, so the device stores one page while the
    /// server works on the next. Requests still go one at a time, in order. If storing fails,
    /// the request ahead is cancelled: its events stay in the outbox and its page is pulled
    /// again, as after a lost answer.
    private func round(
        _ transport: any SyncTransport, token: String?, ahead: inout RoundInFlight?, report: inout SyncReport, chasingRecording: Bool
    ) async throws -> Bool {
        let inFlight: RoundInFlight
        if let next = ahead {
            inFlight = next
            ahead = nil
        } else {
            let batch = try store.outboxBatch(limit: ProtocolLimits.maxEventsPerRequest)
            inFlight = startRound(draft(batch), cursor: batch.cursor, mark: batch.cursorMark, transport, token: token)
        }
        let batch = inFlight.batch, pending = batch.events
        // While the server works: the request after this one (after a pull, events recorded
        // meanwhile), written but for the cursor this answer brings.
        async let nextDraft = draft(try store.outboxBatch(
            limit: ProtocolLimits.maxEventsPerRequest, after: EventID(replica: batch.replica, seq: pending.last?.id.seq ?? 0)))
        // The answer's task is unstructured: a cancelled sync (stopSync(), Ctrl-C) cancels it
        // rather than waiting for the request's own deadline.
        let answer = inFlight.answer
        let (response, sent, received) = try await withTaskCancellationHandler { try await answer.value } onCancel: { answer.cancel() }
        // An answer whose cursor stayed with the request's mark leaves the mark out.
        let mark = response.cursorMark ?? (response.cursor == inFlight.cursor ? inFlight.mark : nil)
        let catalogChanged = batch.fetchedCatalog != response.catalog
        let following = try await nextDraft
        // Storing this answer must not move the device's events or cursor: no refusal, no new
        // replica id, no pulled event under the pushing replica's id (a collision moves events),
        // no forgotten feed.
        if response.more || (chasingRecording && !following.batch.events.isEmpty), response.rejected.isEmpty, !response.renewReplica, !catalogChanged,
            !response.rewound, !response.events.contains(where: { $0.id.replica == batch.replica })
        {
            ahead = startRound(following, cursor: response.cursor, mark: mark, transport, token: token)
        }
        let refused = response.rejected.map { rejection in
            Refusal(
                id: rejection.id, code: rejection.code, reason: rejection.reason,
                handling: RejectionCode(rawValue: rejection.code)?.handling ?? .refusedForGood)
        }
        let applied = try await store.applied(
            SyncRoundResult(
                replica: batch.replica, pushed: pending, refused: refused, retimed: response.retimed.map { (seq: $0.seq, hlc: $0.hlc) },
                renewReplica: response.renewReplica, pulled: response.events,
                aliases: response.aliases.map { (guest: $0.guest, account: $0.account) }, cursor: response.cursor,
                cursorMark: mark, rewound: response.rewound, serverCatalog: response.catalog,
                clockOffset: Self.clockOffset(server: response.time, sent: sent, received: received), serverLastSeq: response.lastSeq,
                aliasProofs: Dictionary(response.aliases.compactMap { alias in alias.proof.map { (alias.guest, $0) } }, uniquingKeysWith: { first, _ in first })),
            now: Date(timeIntervalSince1970: Double(received) / 1000))
        var stillPending = applied.morePending
        // The device found the server forgot events it had acknowledged, and pulls the feed from
        // the start: the request ahead, sent with this answer's cursor, is dropped (its events
        // stay in the outbox; the server ignores them when they come again).
        if applied.cursorReset, let dropped = ahead {
            dropped.answer.cancel()
            ahead = nil
        }
        if catalogChanged {
            try await fetchCatalog(transport)
            stillPending = try await store.pendingCount() > 0
        }
        report.rounds += 1
        report.pushed += pending.count - response.rejected.count
        report.rejected += refused.filter { $0.handling != .moveToNewReplica }.count
        report.moved += refused.filter { $0.handling == .moveToNewReplica }.count
        report.pulled += response.events.count
        // More to pull, a new replica id, or events still in the outbox mean another round (but
        // for events recorded meanwhile, when not chasing them: the caller syncs again).
        return response.more || response.renewReplica || (stillPending && (chasingRecording || !pending.isEmpty && pending.count == ProtocolLimits.maxEventsPerRequest)) || ahead != nil
    }

    /// The learner's progress and certificates as the server grades them from the events it
    /// holds (`GET /v1/progress`): a check that the device and the server agree.
    /// - Throws: ``SyncError``.
    public func serverProgress() async throws -> ProgressResponse {
        let transport = try requireTransport()
        return try await startingOverIfErased {
            try await request(transport) { token in try await fetch(transport, path: Endpoint.progress.path, token: token) }
        }
    }

    /// Runs `body`; if the server answers that the learner was erased, removes the learner's data
    /// from the device, which starts over as a new guest, and rethrows.
    func startingOverIfErased<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SyncError where error.code == .learnerErased {
            try await store.wipe(notice: DeviceNotice(kind: .learnerErased, at: Date(), message: error.message))
            throw error
        }
    }

    /// Server time minus device time: the server's clock read halfway through the round trip.
    static func clockOffset(server: Int64, sent: Int64, received: Int64) -> Int64 {
        server - (sent + (received - sent) / 2)
    }

    /// Fetches the server's catalog (`GET /v1/catalog`) and stores it beside the bundled one.
    func fetchCatalog(_ transport: any SyncTransport) async throws {
        let response: CatalogResponse = try await fetch(transport, path: Endpoint.catalog.path, token: nil)
        try await store.storeServerCatalog(try response.catalog())
    }

    /// The stored token, or a new one from registering this device's guest.
    func ensureToken(_ transport: any SyncTransport, report: inout SyncReport) async throws -> String {
        if let token = try store.token() { return token }
        guard let token = try await renewGuestToken(transport, report: &report) else {
            throw SyncError(.unauthorized, "this device is signed in to an account but has no token (a sign-out cut short, or the token was lost): sign in again, or sign out to finish")
        }
        return token
    }

    /// Registers (again) the device's guest learner and stores the new token; nil when the
    /// device's learner is an account, which needs a sign-in instead. When the server had let
    /// the guest expire, every event goes back to the outbox.
    func renewGuestToken(_ transport: any SyncTransport, report: inout SyncReport) async throws -> String? {
        let learner = try await store.identity().learner
        guard learner.isGuest else { return nil }
        let request = RegisterGuestRequest(learner: learner, secret: try await store.deviceSecret())
        let session: SessionResponse = try await exchange(transport, path: Endpoint.guests.path, body: request, token: nil)
        if session.guestExpired == true {
            try await resendAfterExpiry()
            report.guestExpired = true
        }
        try await store.setToken(session.token)
        return session.token
    }

    /// The server had deleted this device's guest: push everything again, and say so.
    func resendAfterExpiry() async throws {
        try await store.resendAll(notice: DeviceNotice(
            kind: .guestExpired, at: Date(),
            message: "the server had deleted this guest's progress after a long time without a sync; the device sent it all again"))
    }

    /// Sends one JSON request and decodes the answer, mapping every failure to ``SyncError``.
    func exchange<Answer: WireCodable>(
        _ transport: any SyncTransport, path: String, body: some WireCodable, token: String?, method: String = "POST"
    ) async throws -> Answer {
        try await send(transport, method: method, path: path, body: try encoded(body), token: token)
    }

    /// A request's JSON body.
    private func encoded(_ body: some WireCodable) throws(SyncError) -> Data {
        do {
            return try WireCoding.encode(body)
        } catch {
            throw SyncError(.badAnswer, "the request could not be written", cause: error)
        }
    }

    /// Sends a `GET` and decodes the answer, mapping every failure to ``SyncError``.
    func fetch<Answer: WireCodable>(_ transport: any SyncTransport, path: String, token: String?) async throws -> Answer {
        try await send(transport, method: "GET", path: path, body: nil, token: token)
    }

    /// Sends a request and decodes the answer; `gzipped` is `body` compressed already.
    private func send<Answer: WireCodable>(
        _ transport: any SyncTransport, method: String, path: String, body: Data?, gzipped: Data? = nil, token: String?
    ) async throws -> Answer {
        var headers = ["Accept-Encoding": "gzip"]
        if body != nil { headers["Content-Type"] = "application/json" }
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let request = TransportRequest(method: method, path: path, headers: headers, body: body ?? Data())
        let response = try await deliver(request, gzipped: gzipped, over: transport)
        guard (200...299).contains(response.status) else { throw Self.refusal(response) }
        do throws(Problem) {
            return try WireCoding.decode(Answer.self, from: response.body)
        } catch {
            throw SyncError(.badAnswer, "the server's answer could not be read: \(error.detail)", problem: error)
        }
    }

    /// Sends a `GET` and writes a successful answer to `file` as it arrives (``SyncTransport/download(_:to:cap:)``),
    /// mapping every failure to ``SyncError``.
    func download(_ transport: any SyncTransport, path: String, token: String?, to file: URL, cap: Int) async throws {
        var headers = [String: String]()
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let response: TransportResponse
        do {
            response = try await transport.download(TransportRequest(method: "GET", path: path, headers: headers, body: Data()), to: file, cap: cap)
        } catch {
            throw SyncError(.unreachable, "the server's answer did not arrive whole", cause: error)
        }
        guard (200...299).contains(response.status) else { throw Self.refusal(response) }
    }

    /// A transport's error in a few words: a URLError's own description (which names the URL for
    /// ``URLSessionTransport``'s deadline), else the error.
    static func describe(_ error: any Error) -> String {
        (error as? URLError)?.localizedDescription ?? String(describing: error)
    }

    /// The error of an answer that is not a success.
    private static func refusal(_ response: TransportResponse) -> SyncError {
        let problem = try? WireCoding.decode(Problem.self, from: response.body)
        let detail = problem?.detail ?? "HTTP \(response.status)"
        if problem?.knownCode == .learnerErased {
            return SyncError(
                .learnerErased,
                "this learner's data was erased from the server (\(detail)); this device removed its copy too and is a new guest now",
                problem: problem)
        }
        if problem?.knownCode == .guestAttached {
            return SyncError(
                .guestAttachedElsewhere,
                "this device's guest progress was attached to an account by an earlier sign-in whose answer was lost: sign in to that account, or sign out with force to start over as a new guest",
                problem: problem)
        }
        let retryAfter = response.header("Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
            ?? problem?.retryAfter.map { Duration.seconds($0) }
        switch response.status {
        case 401: return SyncError(.unauthorized, "the server refused the credentials: \(detail)", problem: problem)
        case 429: return SyncError(.rateLimited, "the server asks to wait: \(detail)", problem: problem, retryAfter: retryAfter)
        case 500...: return SyncError(.unreachable, "the server could not answer: \(detail)", problem: problem, retryAfter: retryAfter)
        default: return SyncError(.refused, "the server refused the request: \(detail)", problem: problem)
        }
    }

    /// Whether a request body of `count` bytes goes gzip-compressed: when that gains
    /// (``ContentCoding/minimumCompressedBytes``) and the server has not refused gzip.
    private func gzipsBody(ofBytes count: Int) -> Bool {
        count >= ContentCoding.minimumCompressedBytes && !serverRefusesGzip.load(ordering: .relaxed)
    }

    /// Sends `request` with its body gzip-compressed when that gains (`gzipped`, when the caller
    /// compressed it already), again as it is if the server does not take gzip (`415
    /// unsupported-encoding`, remembered for this client's later requests), and returns the
    /// answer with its body decoded. URLSession decodes gzip answers itself; other transports
    /// may not.
    private func deliver(_ request: TransportRequest, gzipped: Data?, over transport: any SyncTransport) async throws(SyncError) -> TransportResponse {
        var compressed = request
        if gzipsBody(ofBytes: request.body.count), let gzipped = gzipped ?? ContentCoding.gzip(request.body) {
            compressed.body = gzipped
            compressed.headers["Content-Encoding"] = "gzip"
        }
        var response: TransportResponse
        do {
            response = try await transport.send(compressed)
            if compressed.headers["Content-Encoding"] != nil, response.status == 415,
                (try? WireCoding.decode(Problem.self, from: response.body))?.knownCode == .unsupportedEncoding
            {
                serverRefusesGzip.store(true, ordering: .relaxed)
                response = try await transport.send(request)
            }
        } catch {
            throw SyncError(.unreachable, "the server did not answer (\(Self.describe(error)))", cause: error)
        }
        if ContentCoding.looksGzipped(response.body), ContentCoding(contentEncoding: response.header("Content-Encoding")) == .gzip {
            do {
                response.body = try ContentCoding.inflate(response.body, limit: ProtocolLimits.maxAnswerBytes)
            } catch {
                throw SyncError(.badAnswer, "the server's gzip answer could not be decoded: \(error)")
            }
        }
        return response
    }
}
