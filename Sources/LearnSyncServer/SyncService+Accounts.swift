import LearnSyncModels
package import LearnSyncProtocol

extension SyncService {
    /// `POST /v1/accounts`: creates an account (username and password, nothing else) and
    /// attaches the device's guest, if proven, in the same transaction.
    ///
    /// Signing up again with the same username and password (a retry after a lost answer) is
    /// a sign-in, so the retry succeeds; with another password the username is taken.
    package func signUp(_ request: CredentialsRequest, address: String) async throws -> SessionResponse {
        try request.validate()
        try attempts.signUp(address: address, now: clock.millisecondsSince1970())
        let forgotten = try await judgePrevious(request.previous, signingInTo: nil)
        let rewound = try await guestRewound(request)
        let account = LearnerID.newAccount()
        let hash = try await hasher.hash(request.password)
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
        // The address the account was made from is its owner's.
        attempts.known.insert(request.username, address, now: clock.millisecondsSince1970())
        return SessionResponse(
            learner: account, token: token, expiresAt: session.expiresAt, guestExpired: outcome == .restarted ? true : nil,
            previousForgotten: forgotten ? true : nil, guestRewound: rewound ? true : nil)
    }

    /// `POST /v1/sessions`: checks the password (rate-limited per username and per address),
    /// attaches the device's guest if proven, and returns a new token for the account.
    package func signIn(_ request: CredentialsRequest, address: String) async throws -> SessionResponse {
        try request.validate()
        let account = try await store.account(username: request.username)
        try await checkPassword(request.password, hash: account?.passwordHash, username: request.username, address: address)
        guard let account else { throw Self.wrongPassword }
        let forgotten = try await judgePrevious(request.previous, signingInTo: account.id)
        let rewound = try await guestRewound(request)
        let (token, session) = newSession()
        let outcome = try await store.signIn(account.id, passwordHash: account.passwordHash, guest: claim(request.guest), session: session)
        try check(outcome)
        return SessionResponse(
            learner: account.id, token: token, expiresAt: session.expiresAt, guestExpired: outcome == .restarted ? true : nil,
            previousForgotten: forgotten ? true : nil, guestRewound: rewound ? true : nil)
    }

    /// Whether the guest's feed went back in time under the cursor its device names
    /// (``CursorCheck``): its rows stay in their own feed when it attaches, so the check reads
    /// there. The device pulls the account's feed from the start after signing in, which no
    /// cursor check covers.
    private func guestRewound(_ request: CredentialsRequest) async throws -> Bool {
        guard let guest = request.guest?.learner, let cursor = request.guestCursor,
              CursorCheck.needsMark(cursor: cursor, mark: request.guestCursorMark)
        else { return false }
        return CursorCheck.isRewound(cursor: cursor, mark: request.guestCursorMark, stored: try await store.mark(at: cursor, inFeedOf: guest))
    }

    /// Judges the account a device was signed in to when it signs in or up to `target` (nil: a
    /// new account): the same account, or none, changes nothing. One this server knows is not
    /// the device's to bring into another account; one it erased stays erased. One it knows
    /// nothing of (a restored server, whose backup was taken before the account was made) is
    /// the device's to move into the target, which the answer tells it.
    /// - Returns: whether the server knows nothing of `previous`.
    /// - Throws: `Problem` `conflict` or `learner-erased`, before anything is stored.
    private func judgePrevious(_ previous: LearnerID?, signingInTo target: LearnerID?) async throws -> Bool {
        guard let previous, previous != target else { return false }
        if try await store.credentials(of: previous) != nil {
            throw Problem(
                code: .conflict,
                detail: "this device holds the progress of another account this server knows: sign in to that account, or sign out first")
        }
        if let tombstone = try await store.tombstone(learner: previous), tombstone.reason == .erased {
            throw Problem(code: .learnerErased, detail: "the account this device was signed in to was erased")
        }
        return true
    }

    /// `POST /v1/signout`: revokes the caller's token, or with `everywhere` every token of the
    /// caller's learner and its attached guests.
    package func signOut(_ request: SignOutRequest = SignOutRequest(), authorization: String?) async throws -> SignOutResponse {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        let learner = try await session(tokenHash: tokenHash).learner
        guard request.everywhere == true else {
            let revoked = try await store.revoke(tokenHash: tokenHash)
            announce(.recheckToken(tokenHash))
            return SignOutResponse(revoked: revoked, sessions: nil)
        }
        guard let count = try await store.revokeAll(tokenHash: tokenHash, now: clock.millisecondsSince1970()) else {
            throw try await refusal(forToken: tokenHash)
        }
        announce(.recheckLearner(learner))
        return SignOutResponse(revoked: count > 0, sessions: count)
    }

    /// Checks a password against an account's bcrypt hash (against a decoy when there is no
    /// account, so timing reveals nothing), as one throttled attempt of the username from the
    /// address (``PasswordAttempts``).
    /// - Throws: `Problem` `unauthorized` or `rate-limited`.
    func checkPassword(_ password: String, hash: String?, username: String, address: String) async throws {
        let clock = clock
        let right: Bool
        do {
            right = try await attempts.attempt(username: username, address: address, now: { clock.millisecondsSince1970() }) { known in
                try await hasher.verify(password, hash: hash, decoy: decoyHash, priority: known)
            }
        } catch let problem as Problem where problem.knownCode == .rateLimited {
            metrics.throttledAttempt()
            throw problem
        }
        guard right else {
            metrics.signInFailed()
            throw Self.wrongPassword
        }
    }

    static let wrongPassword = Problem(code: .unauthorized, detail: "wrong username or password")

    /// The password was right when checked, but another change replaced it before this request's
    /// transaction (a race with a password change).
    static let passwordChangedMeanwhile = Problem(code: .unauthorized, detail: "the password changed meanwhile: sign in with the new one")

    private func claim(_ proof: GuestProof?) -> GuestClaim? {
        proof.map { GuestClaim(learner: $0.learner, secretHash: Credentials.hash($0.secret)) }
    }

    private func check(_ outcome: AttachOutcome) throws {
        switch outcome {
        case .attached: return
        case .usernameTaken: throw Problem(code: .conflict, detail: "this username is taken")
        case .attachedElsewhere: throw Problem(code: .guestAttached, detail: "this guest is already attached to another account")
        case .wrongGuestSecret: throw Problem(code: .forbidden, detail: "the guest's device secret does not match")
        case .erased: throw Self.erasedGuest
        case .restarted: return
        case .passwordChanged: throw Self.passwordChangedMeanwhile
        }
    }
}
