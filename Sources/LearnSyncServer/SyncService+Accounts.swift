import HummingbirdBcrypt
import LearnSyncModels
public import LearnSyncProtocol

extension SyncService {
    /// `POST /v1/accounts`: creates an account (username and password, nothing else) and
    /// attaches the device's guest, if proven, in the same transaction.
    ///
    /// Signing up again with the same username and password (a retry after a lost answer) is
    /// a sign-in, so the retry succeeds; with another password the username is taken.
    public func signUp(_ request: CredentialsRequest, address: String) async throws -> SessionResponse {
        try request.validate()
        let account = LearnerID.newAccount()
        let hash = Bcrypt.hash(request.password, cost: passwordCost)
        let (token, session) = newSession()
        let outcome = try await store.createAccount(
            account, username: request.username, passwordHash: hash, guest: claim(request.guest), session: session)
        if outcome == .usernameTaken {
            do {
                return try await signIn(request, address: address)
            } catch let problem as Problem where problem.knownCode == .unauthorized {
                throw Problem(code: .conflict, detail: "this username is taken")
            }
        }
        try check(outcome)
        return SessionResponse(learner: account, token: token, expiresAt: session.expiresAt)
    }

    /// `POST /v1/sessions`: checks the password (rate-limited per username and per address),
    /// attaches the device's guest if proven, and returns a new token for the account.
    public func signIn(_ request: CredentialsRequest, address: String) async throws -> SessionResponse {
        try request.validate()
        let now = clock.millisecondsSince1970()
        let usernameKey = "u:" + request.username, addressKey = "a:" + address
        if let wait = usernameFailures.retryAfter(usernameKey, now: now) ?? addressFailures.retryAfter(addressKey, now: now) {
            throw Problem(code: .rateLimited, detail: "too many failed sign-ins; try again in \(wait) seconds", retryAfter: wait)
        }
        let account = try await store.account(username: request.username)
        // Verify against a decoy when the username is unknown, so timing reveals nothing.
        let verified = Bcrypt.verify(request.password, hash: account?.passwordHash ?? decoyHash)
        guard let account, verified else {
            usernameFailures.fail(usernameKey, now: now)
            addressFailures.fail(addressKey, now: now)
            throw Problem(code: .unauthorized, detail: "wrong username or password")
        }
        usernameFailures.reset(usernameKey)
        let (token, session) = newSession()
        try check(try await store.signIn(account.id, guest: claim(request.guest), session: session))
        return SessionResponse(learner: account.id, token: token, expiresAt: session.expiresAt)
    }

    /// `POST /v1/signout`: revokes the caller's token.
    public func signOut(authorization: String?) async throws -> SignOutResponse {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        _ = try await session(tokenHash: tokenHash)
        return SignOutResponse(revoked: try await store.revoke(tokenHash: tokenHash))
    }

    private func claim(_ proof: GuestProof?) -> GuestClaim? {
        proof.map { GuestClaim(learner: $0.learner, secretHash: Credentials.hash($0.secret)) }
    }

    private func check(_ outcome: AttachOutcome) throws {
        switch outcome {
        case .attached: return
        case .usernameTaken: throw Problem(code: .conflict, detail: "this username is taken")
        case .attachedElsewhere: throw Problem(code: .guestAttached, detail: "this guest is already attached to another account")
        case .wrongGuestSecret: throw Problem(code: .forbidden, detail: "the guest's device secret does not match")
        }
    }
}
