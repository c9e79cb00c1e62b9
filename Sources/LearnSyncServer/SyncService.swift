public import LearnSyncModels
public import LearnSyncProtocol

/// The protocol's logic, independent of HTTP: checks requests, authenticates tokens, judges each
/// pushed event and talks to the ``ServerStore``.
public struct SyncService: Sendable {
    public let store: any ServerStore
    public let catalog: Catalog
    public let clock: any WallClock
    /// How long a token lives, in milliseconds (default 30 days).
    public let tokenLifetime: Int64

    public init(store: any ServerStore, catalog: Catalog, clock: any WallClock = SystemWallClock(), tokenLifetime: Int64 = 30 * 24 * 3600 * 1000) {
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.tokenLifetime = tokenLifetime
    }

    /// `POST /v1/guests`: registers a guest (or re-registers it with the same secret) and
    /// returns a new token for it.
    public func registerGuest(_ request: RegisterGuestRequest) async throws -> SessionResponse {
        try request.validate()
        let token = Credentials.newToken()
        let expiresAt = clock.millisecondsSince1970() + tokenLifetime
        guard try await store.registerGuest(
            request.learner, secretHash: Credentials.hash(request.secret), tokenHash: Credentials.hash(token), expiresAt: expiresAt)
        else {
            throw Problem(code: .conflict, detail: "this guest id is registered with another device secret")
        }
        return SessionResponse(learner: request.learner, token: token, expiresAt: expiresAt)
    }

    /// The session of an `Authorization` header's bearer token.
    /// - Throws: ``Problem`` `unauthorized` when the header is missing or malformed, or the token
    ///   is unknown, expired or revoked (one answer for all, so tokens cannot be probed).
    public func authenticate(authorization: String?) async throws -> SessionRecord {
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.count > 7 else {
            throw Problem(code: .unauthorized, detail: "send Authorization: Bearer <token>")
        }
        let token = String(authorization.dropFirst(7))
        guard let session = try await store.session(tokenHash: Credentials.hash(token), now: clock.millisecondsSince1970()) else {
            throw Problem(code: .unauthorized, detail: "the token is unknown, expired or revoked")
        }
        return session
    }

    /// `POST /v1/sync`: stores the acceptable pushed events and answers the next page of the
    /// caller's feed. A refused event never blocks the others.
    public func sync(_ request: SyncRequest, session: SessionRecord) async throws -> SyncResponse {
        try request.validate()
        let horizon = HLCTimestamp(physicalMilliseconds: clock.millisecondsSince1970() + ProtocolLimits.maxClockSkewMilliseconds)
        var rejected = [Rejection]()
        var accepted = [ProgressEvent]()
        accepted.reserveCapacity(request.events.count)
        for event in request.events {
            if let rejection = judge(event, replica: request.replica, horizon: horizon) {
                rejected.append(rejection)
            } else {
                accepted.append(event)
            }
        }
        let page = try await store.sync(
            caller: session.learner, replica: request.replica, events: accepted, cursor: request.cursor, limit: request.pageSize)
        return SyncResponse(
            rejected: rejected + page.rejected, events: page.events, aliases: page.aliases, cursor: page.cursor, more: page.more)
    }

    private func judge(_ event: ProgressEvent, replica: ReplicaID, horizon: HLCTimestamp) -> Rejection? {
        guard event.id.replica == replica else {
            return Rejection(id: event.id, code: .foreignReplica, reason: "a device pushes only its own replica's events")
        }
        guard event.timestamp <= horizon else {
            return Rejection(id: event.id, code: .clockSkew, reason: "the event's time is more than 5 minutes ahead of the server")
        }
        do {
            try catalog.validate(event)
        } catch {
            return Rejection(id: event.id, code: error.code == .unknownCourse ? .unknownCourse : .unknownItem, reason: error.message)
        }
        return nil
    }
}
