import HummingbirdBcrypt
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
    /// The bcrypt cost of password hashes (default 12; tests use 4, the minimum).
    public let passwordCost: UInt8
    let usernameFailures: LoginRateLimiter
    let addressFailures: LoginRateLimiter
    /// A hash to verify against when the username is unknown, so both cases take the same time.
    let decoyHash: String

    /// - Parameters:
    ///   - loginAttempts: failed sign-ins allowed per username in 15 minutes (5 times as many
    ///     per address).
    public init(
        store: any ServerStore, catalog: Catalog, clock: any WallClock = SystemWallClock(),
        tokenLifetime: Int64 = 30 * 24 * 3600 * 1000, passwordCost: UInt8 = 12, loginAttempts: Int = 5
    ) {
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.tokenLifetime = tokenLifetime
        self.passwordCost = passwordCost
        usernameFailures = LoginRateLimiter(limit: loginAttempts, windowMilliseconds: 15 * 60_000)
        addressFailures = LoginRateLimiter(limit: loginAttempts * 5, windowMilliseconds: 15 * 60_000)
        decoyHash = Bcrypt.hash(IdentifierRules.randomToken(), cost: passwordCost)
    }

    /// `POST /v1/guests`: registers a guest (or re-registers it with the same secret) and
    /// returns a new token for it.
    public func registerGuest(_ request: RegisterGuestRequest) async throws -> SessionResponse {
        try request.validate()
        let (token, session) = newSession()
        switch try await store.registerGuest(GuestClaim(learner: request.learner, secretHash: Credentials.hash(request.secret)), session: session) {
        case .attached:
            return SessionResponse(learner: request.learner, token: token, expiresAt: session.expiresAt)
        case .attachedElsewhere:
            throw Problem(code: .conflict, detail: "this guest is attached to an account: sign in instead")
        case .wrongGuestSecret, .usernameTaken:
            throw Problem(code: .conflict, detail: "this guest id is registered with another device secret")
        }
    }

    /// The live session of a token hash.
    /// - Throws: ``Problem`` `unauthorized` when the token is unknown, expired or revoked (one
    ///   answer for all, so tokens cannot be probed).
    func session(tokenHash: String) async throws -> SessionRecord {
        guard let session = try await store.session(tokenHash: tokenHash, now: clock.millisecondsSince1970()) else {
            throw Self.unknownToken
        }
        return session
    }

    /// The token of an `Authorization: Bearer <token>` header.
    static func bearerToken(_ authorization: String?) throws(Problem) -> String {
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.utf8.count > 7 else {
            throw Problem(code: .unauthorized, detail: "send Authorization: Bearer <token>")
        }
        return String(authorization.dropFirst(7))
    }

    static let unknownToken = Problem(code: .unauthorized, detail: "the token is unknown, expired or revoked")

    /// `POST /v1/sync`: stores the acceptable pushed events and answers the next page of the
    /// caller's feed. A refused event never blocks the others. The token is checked in the same
    /// transaction that stores the events, so a token revoked meanwhile stores nothing.
    /// - Throws: ``Problem`` `unauthorized` (nothing stored), or a request-level problem.
    public func sync(_ request: SyncRequest, authorization: String?) async throws -> SyncResponse {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        try request.validate()
        let now = clock.millisecondsSince1970()
        let horizon = HLCTimestamp(physicalMilliseconds: now + ProtocolLimits.maxClockSkewMilliseconds)
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
        guard let page = try await store.sync(
            tokenHash: tokenHash, now: now, replica: request.replica, events: accepted, cursor: request.cursor, limit: request.pageSize)
        else { throw Self.unknownToken }
        return SyncResponse(
            rejected: rejected + page.rejected, events: page.events, aliases: page.aliases, cursor: page.cursor, more: page.more)
    }

    /// A new random token and the session record that stores only its hash.
    func newSession() -> (token: String, session: NewSession) {
        let token = Credentials.newToken()
        return (token, NewSession(tokenHash: Credentials.hash(token), expiresAt: clock.millisecondsSince1970() + tokenLifetime))
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
