import Foundation
import LearnSyncModels
package import LearnSyncProtocol

/// The learner's data lifecycle: erasure, export, password change and guest expiry
/// (docs/PRIVACY.md).
extension SyncService {
    /// `DELETE /v1/account`: erases the caller's learner (an account with its attached guests, or
    /// an unattached guest) in one transaction. An account's password must be entered again.
    /// - Throws: `Problem` `invalid-request` (no password for an account), `unauthorized` (wrong
    ///   password or token), `rate-limited`, `learner-erased` (erased already).
    package func deleteAccount(_ request: DeleteAccountRequest, authorization: String?, address: String) async throws -> DeleteAccountResponse {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        try request.validate()
        let learner = try await session(tokenHash: tokenHash).learner
        guard let credentials = try await store.credentials(of: learner) else { throw try await refusal(forToken: tokenHash) }
        if let username = credentials.username {
            guard let password = request.password else {
                throw Problem(code: .invalidRequest, detail: "enter the account's password to erase it")
            }
            try await checkPassword(password, hash: credentials.passwordHash, username: username, address: address)
        }
        let now = clock.millisecondsSince1970()
        // Pending first: should the server stop after the commit, the start completes the line.
        // A refused or failed erasure leaves the pending line only, which is never made later.
        try erasureJournal?.record([learner], at: now, pending: true)
        guard let receipt = try await store.erase(learner, now: now) else { throw try await refusal(forToken: tokenHash) }
        announce(.recheckLearner(learner))
        // Committed: the answer is the erasure's. A line that cannot be written now (a full disk)
        // is completed at the next start from the pending one, which the database confirms.
        try? erasureJournal?.record([learner] + receipt.guestIDs, at: now)
        return DeleteAccountResponse(learner: learner, erasedAt: now, guests: receipt.guests, events: receipt.events)
    }

    /// Applies again every erasure of the ``erasureJournal`` the store does not show (a database
    /// restored from a backup taken before it): the server runs this before it listens.
    /// - Returns: how many learners were erased again or given their tombstone back.
    @discardableResult
    package func reapplyErasures() async throws -> Int {
        guard let erasureJournal else { return 0 }
        try erasureJournal.prepare()
        let entries = try erasureJournal.entries()
        let committed = Set(entries.filter { !$0.pending }.map(\.learner))
        var changed = 0
        for entry in entries where !entry.pending {
            if try await store.reapplyErasure(of: entry.learner, at: entry.at) { changed += 1 }
        }
        // A pending line alone: the erasure committed only if the database shows it.
        for entry in entries where entry.pending && !committed.contains(entry.learner) {
            guard let tombstone = try await store.tombstone(learner: entry.learner), tombstone.reason == .erased else { continue }
            try erasureJournal.record([entry.learner], at: entry.at)
        }
        return changed
    }

    /// `POST /v1/account/password`: checks the current password, stores the new one's hash,
    /// revokes every token of the account and returns a new one for the caller.
    /// - Throws: `Problem` `forbidden` for a guest (it has no password), `unauthorized`,
    ///   `rate-limited`, `invalid-request`.
    package func changePassword(_ request: ChangePasswordRequest, authorization: String?, address: String) async throws -> SessionResponse {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        try request.validate()
        let learner = try await session(tokenHash: tokenHash).learner
        guard let credentials = try await store.credentials(of: learner), let username = credentials.username,
              let oldHash = credentials.passwordHash
        else {
            throw Problem(code: .forbidden, detail: "a guest has no password: sign up to make an account")
        }
        try await checkPassword(request.password, hash: credentials.passwordHash, username: username, address: address)
        let hash = try await hasher.hash(request.newPassword)
        let (token, session) = newSession()
        // Checked against `oldHash`: a change that came first since makes this password wrong.
        guard try await store.setPassword(learner, from: oldHash, to: hash, session: session) else {
            throw Self.passwordChangedMeanwhile
        }
        announce(.recheckLearner(learner))
        return SessionResponse(learner: learner, token: token, expiresAt: session.expiresAt)
    }

    /// `GET /v1/export`: everything the server holds about the caller: the account and its
    /// guests, live token expiries, every event, and the progress graded from them. Collected in
    /// memory: the server's route streams the same answer (`exportWriter(authorization:format:)`).
    package func export(authorization: String?) async throws -> ExportDocument {
        try await collect(try await exportWriter(authorization: authorization, format: .json))
    }

    /// `GET /v1/export?format=xapi`: the export as xAPI 1.0.3 statements, with `homePage` as the
    /// actor's account system and the base of activity ids.
    package func xapiExport(authorization: String?, homePage: String) async throws -> XAPIStatementResult {
        try await collect(try await exportWriter(authorization: authorization, format: .xapi(homePage: homePage)))
    }

    /// The export of the caller, its token checked and its record read, ready to be written.
    /// - Throws: `Problem` `unauthorized` or `learner-erased`.
    package func exportWriter(authorization: String?, format: ExportWriter.Format) async throws -> ExportWriter {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        let now = clock.millisecondsSince1970()
        guard let record = try await store.record(tokenHash: tokenHash, now: now) else { throw try await refusal(forToken: tokenHash) }
        return ExportWriter(
            record: record, pages: FeedPages(store: store, tokenHash: tokenHash, now: now), catalog: catalog, exportedAt: now, format: format)
    }

    private func collect<T: WireCodable>(_ writer: ExportWriter) async throws -> T {
        var data = Data()
        try await writer.write { data += $0 }
        return try WireCoding.decode(T.self, from: data)
    }

    /// Deletes unattached guests that neither registered nor synced for `guestRetention`
    /// milliseconds, with their events, and every expired or revoked session.
    package func sweep(guestRetention: Int64) async throws -> SweepReport {
        let now = clock.millisecondsSince1970()
        return try await store.sweep(idleSince: now - guestRetention, now: now, batch: 500)
    }
}
