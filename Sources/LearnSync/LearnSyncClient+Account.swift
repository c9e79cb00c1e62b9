import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage

extension LearnSyncClient {
    /// Creates an account (a username and a password, nothing else) and attaches this device's
    /// guest progress to it, then syncs. When that sync cannot finish (the server is unreachable
    /// or asks to wait), the account is made all the same: ``pendingCount()`` tells what the next
    /// ``sync(progress:)`` sends.
    ///
    /// - Returns: the new account's learner id.
    /// - Throws: ``SyncError``: `refused` with a `conflict` problem when the username is taken.
    @discardableResult
    public func signUp(username: String, password: String) async throws -> LearnerID {
        defer { liveTokenChanged() }
        return try await authenticate(path: Endpoint.accounts.path, username: username, password: password)
    }

    /// Signs in to an existing account and attaches this device's guest progress to it: the
    /// account keeps everything it had and gains every completion and attempt of the guest.
    /// Retrying after a lost answer is safe. A device signed in to this account already gets a
    /// new token (after it expired) and keeps everything it holds. Like ``signUp(username:password:)``
    /// it then syncs, and succeeds even when that sync cannot finish.
    ///
    /// - Throws: ``SyncError``: `unauthorized` for a wrong username or password, `refused` with
    ///   a `conflict` problem if this guest is already attached to another account or
    ///   `rate-limited` after too many failures.
    @discardableResult
    public func signIn(username: String, password: String) async throws -> LearnerID {
        defer { liveTokenChanged() }
        return try await authenticate(path: Endpoint.sessions.path, username: username, password: password)
    }

    /// Signs out: syncs what is pending, asks the server to revoke the token, and removes the
    /// account's data from the device, which starts over as a new guest. The revocation is best
    /// effort (a device signing out offline still signs out; a token the server did not revoke
    /// expires by itself) unless `everywhere` is set, which must succeed.
    ///
    /// A guest's progress that is on the server but in no account cannot be reclaimed after
    /// signing out: that needs `force`.
    ///
    /// - Parameters:
    ///   - force: sign out even if pending events cannot be synced, or the guest's progress is in
    ///     no account (it is lost to this learner).
    ///   - everywhere: revoke every token of the account, so every device must sign in again
    ///     (they keep what they hold); this one signs out as well.
    /// - Throws: ``SyncError`` `notSynced` when events exist on this device only (pending after the
    ///   sync, or held back or refused by the server) and `force` is false; `guestNotClaimed` when the device's guest has progress and `force` is false;
    ///   any failure to revoke with `everywhere`. Nothing is removed then. `StorageError`
    ///   `busy` when another connection reading the device file keeps old copies of the data in
    ///   it: the data is gone from the store, and signing out again clears the file.
    public func signOut(force: Bool = false, everywhere: Bool = false) async throws {
        defer { liveTokenChanged() }
        try await store.syncLock.withLock { try await signOutHoldingLock(force: force, everywhere: everywhere) }
    }

    private func signOutHoldingLock(force: Bool, everywhere: Bool) async throws {
        if !force, try await store.identity().learner.isGuest, try await store.hasLocalEvents() {
            throw SyncError(
                .guestNotClaimed,
                "this guest's progress is in no account and cannot be reclaimed after signing out: sign up or sign in to keep it, or sign out with force")
        }
        if let transport {
            let pending = try await store.pendingCount()
            do {
                // Without a token there is nothing to ask the server; with nothing pending,
                // nothing is lost by not asking.
                let signedIn = try store.token() != nil
                if pending > 0 || (!force && signedIn) { try await syncHoldingLock() }
            } catch let error as StorageError {
                // The device's own storage failed: saying "could not be synced" would mislead.
                throw error
            } catch let error as SyncError where error.code == .unauthorized && pending == 0 {
                // The token is revoked or expired (a sign-out whose wipe a full disk cut short
                // revoked it already), and the server has everything: the wipe can go on.
            } catch {
                if !force {
                    throw SyncError(.notSynced, "pending events could not be synced; sign out with force to drop them", cause: error)
                }
            }
            try await refuseIfUnstored(force: force)
            if try store.token() != nil {
                let signOut = { (token: String?) async throws -> SignOutResponse in
                    try await self.exchange(transport, path: Endpoint.signOut.path, body: SignOutRequest(everywhere: everywhere ? true : nil), token: token)
                }
                if everywhere {
                    _ = try await request(transport, signOut)
                } else {
                    // Signing out of this device only: the device forgets its token whatever the
                    // server answers; an unrevoked token expires by itself.
                    _ = try? await request(transport, signOut)
                }
            }
        } else {
            try await refuseIfUnstored(force: force)
        }
        try await store.wipe()
    }

    /// Refuses to sign out, unless `force`, while events exist on this device only: pending, or
    /// held back or refused by the server (held ones wait for a catalog the server does not have
    /// yet; signing out would lose them everywhere).
    private func refuseIfUnstored(force: Bool) async throws {
        guard !force else { return }
        let unstored = try await store.unstoredCount()
        guard unstored > 0 else { return }
        throw SyncError(
            .notSynced,
            "\(unstored) event\(unstored == 1 ? " is" : "s are") on this device only (not yet synced, or held back or refused by the server: see rejectedEvents()); sign out with force to drop them")
    }

    private func authenticate(path: String, username: String, password: String) async throws -> LearnerID {
        try await store.syncLock.withLock { try await authenticateHoldingLock(path: path, username: username, password: password) }
    }

    private func authenticateHoldingLock(path: String, username: String, password: String) async throws -> LearnerID {
        let transport = try requireTransport()
        let identity = try await store.identity()
        // Signed in already: signing in again to the same account renews an expired or revoked
        // token and keeps everything on the device.
        // Signed in to an account: the request names it, and the guest this device was, so that
        // a server that forgot the account (restored from an older backup) takes its progress
        // into the account signed in to, and attaches the guest again.
        let previous = identity.learner.isGuest ? nil : identity.learner
        let guestID = previous == nil ? identity.learner : try await store.ownGuest()
        var guest: GuestProof?
        if let guestID { guest = GuestProof(learner: guestID, secret: try await store.deviceSecret()) }
        // A guest's cursor: a server that forgot some of the guest's events says so.
        let state = previous == nil ? try await store.syncState() : nil
        let request = CredentialsRequest(
            username: username, password: password, guest: guest, previous: previous, guestCursor: state?.cursor, guestCursorMark: state?.cursorMark)
        let session: SessionResponse = try await startingOverIfErased {
            try await self.request(transport, token: false) { _ in try await exchange(transport, path: path, body: request, token: nil) }
        }
        if session.guestExpired == true {
            try await resendAfterExpiry()
        } else if session.guestRewound == true {
            try await store.resendAll(notice: nil)
        }
        if let previous, session.learner != previous {
            // A server that knows the previous account refuses before this (`conflict`).
            guard session.previousForgotten == true else {
                throw SyncError(.refused, "this device is signed in to another account: sign out first")
            }
            try await store.rehome(from: previous, to: session.learner, token: session.token)
        } else {
            try await store.attach(to: session.learner, token: session.token)
        }
        do {
            try await syncHoldingLock()
        } catch let error as SyncError where error.code == .unreachable || error.code == .rateLimited {
            // The account is made and the guest attached, on the server and here: the events
            // still pending go with the next sync. Throwing now would read as a failed sign-up,
            // and trying it again would be refused.
        }
        return session.learner
    }
}
