public import Foundation
import LearnSyncModels
public import LearnSyncProtocol
import LearnSyncStorage

/// The learner's control over their data: erase it, take it out, change the password.
extension LearnSyncClient {
    /// Erases the learner from the server for good: an account with every attached guest, all
    /// their events and tokens (or this device's guest), then removes it from this device, which
    /// starts over as a new guest. Other devices of the learner do the same at their next sync.
    /// A guest that never synced has nothing on a server and is erased on the device only.
    ///
    /// - Parameter password: the account's password, entered again; nil for a guest.
    /// - Returns: what the server removed.
    /// - Throws: ``SyncError``: `unauthorized` (wrong password, or the token expired: sign in
    ///   first), `refused` (a missing password, `rate-limited`), `unreachable`, `noServer`, or
    ///   `learnerErased` (erased already: the device was wiped). Nothing is removed from the
    ///   device unless the server erased the learner.
    @discardableResult
    public func deleteAccount(password: String?) async throws -> DeleteAccountResponse {
        defer { liveTokenChanged() }
        // Not while a sync runs: none of its answers may be stored after the wipe.
        return try await store.syncLock.withLock { try await deleteAccountHoldingLock(password: password) }
    }

    private func deleteAccountHoldingLock(password: String?) async throws -> DeleteAccountResponse {
        let transport = try requireTransport()
        let learner = try await store.identity().learner
        if learner.isGuest, try store.token() == nil {
            // A guest that never registered has nothing on any server: erase it here only.
            let events = try await store.allEvents().count
            try await store.wipe(notice: DeviceNotice(
                kind: .learnerErased, at: Date(), message: "you erased this guest (\(learner)): \(events) events, never synced"))
            return DeleteAccountResponse(learner: learner, erasedAt: store.clock.millisecondsSince1970(), guests: 0, events: events)
        }
        return try await startingOverIfErased {
            let erased: DeleteAccountResponse = try await request(transport) { token in
                try await exchange(transport, path: Endpoint.account.path, body: DeleteAccountRequest(password: password), token: token, method: "DELETE")
            }
            try await store.wipe(notice: DeviceNotice(
                kind: .learnerErased, at: Date(),
                message: "you erased this learner (\(erased.learner)) from the server: \(erased.events) events, \(erased.guests) attached guests"))
            return erased
        }
    }

    /// Changes the account's password. Every token of the account is revoked, so other devices
    /// sign in again with the new password; this device gets a new token.
    /// - Throws: ``SyncError``: `unauthorized` (wrong current password), `refused` (a guest, a
    ///   password out of bounds, `rate-limited`), `unreachable`, `noServer`.
    public func changePassword(current: String, new: String) async throws {
        defer { liveTokenChanged() }
        // Not while a sync runs: its token is revoked by the change.
        try await store.syncLock.withLock { try await changePasswordHoldingLock(current: current, new: new) }
    }

    private func changePasswordHoldingLock(current: String, new: String) async throws {
        let transport = try requireTransport()
        guard try store.token() != nil, !(try await store.identity().learner.isGuest) else {
            throw SyncError(.refused, "sign in to an account first: a guest has no password")
        }
        let session: SessionResponse = try await startingOverIfErased {
            try await request(transport) { token in
                try await exchange(transport, path: Endpoint.password.path, body: ChangePasswordRequest(password: current, newPassword: new), token: token)
            }
        }
        try await store.setToken(session.token)
    }

    /// Everything this device holds about its learner, readable offline: the learner and its
    /// known guests, every event in the log (held and refused ones included) and the progress
    /// graded from them with the device's catalog.
    public func exportData() async throws -> ExportDocument {
        let learner = try await store.identity().learner
        let events = try await store.allEvents()
        return ExportDocument(
            source: .device, exportedAt: store.clock.millisecondsSince1970(), learner: .init(id: learner),
            guests: try await store.guests(of: learner).map { .init(id: $0) }, sessions: [], events: events,
            progress: CourseReport.grade(events, catalog: catalog))
    }

    /// This device's ``exportData()`` as xAPI 1.0.3 statements, readable offline, named under the
    /// server the device syncs with (`http://localhost` before it has one), as the server names
    /// its own.
    public func exportStatements() async throws -> XAPIStatementResult {
        let homePage = try await store.syncState().server.map(\.absoluteString) ?? "http://localhost"
        return XAPIStatementResult(statements: XAPIExport.statements(of: try await exportData(), catalog: catalog, homePage: homePage))
    }

    /// Everything the server holds about the learner (`GET /v1/export`).
    /// - Throws: ``SyncError``.
    public func serverExport() async throws -> ExportDocument {
        try await serverExport(format: "json")
    }

    /// The server's export as xAPI 1.0.3 statements (`GET /v1/export?format=xapi`), named with
    /// the server's address.
    /// - Throws: ``SyncError``.
    public func serverStatements() async throws -> XAPIStatementResult {
        try await serverExport(format: "xapi")
    }

    /// Writes everything the server holds about the learner to `file` as the answer arrives,
    /// never holding it in memory: for a learner whose export is larger than ``serverExport()``
    /// takes (``URLSessionTransport/maxAnswerBytes``, 64 MiB). JSON is an `ExportDocument`,
    /// xAPI an `XAPIStatementResult`. The file is created mode 0600, and only once the whole
    /// answer arrived (it is written beside it first): a cut answer leaves no file behind.
    /// - Parameters:
    ///   - format: JSON or xAPI statements.
    ///   - file: where the export goes; a file there is replaced.
    ///   - cap: the most bytes to accept (4 GiB).
    /// - Throws: ``SyncError``.
    public func serverExport(_ format: ExportFormat, to file: URL, cap: Int = 4 << 30) async throws {
        let transport = try requireTransport()
        let partial = file.appendingPathExtension("partial")
        defer { try? FileManager.default.removeItem(at: partial) }
        try await startingOverIfErased {
            try await request(transport) { token in
                try await download(transport, path: "\(Endpoint.export.path)?format=\(format.rawValue)", token: token, to: partial, cap: cap)
            }
        }
        guard rename(partial.path, file.path) == 0 else {
            throw SyncError(.refused, "the export could not be written to \(file.path)")
        }
    }

    private func serverExport<Answer: WireCodable>(format: String) async throws -> Answer {
        let transport = try requireTransport()
        return try await startingOverIfErased {
            try await request(transport) { token in try await fetch(transport, path: "\(Endpoint.export.path)?format=\(format)", token: token) }
        }
    }

    /// The last notice about the learner's data (erased, or a guest expired on the server).
    public func notice() async throws -> DeviceNotice? { try await store.notice() }
}

/// The forms of a server export (`GET /v1/export?format=`).
public enum ExportFormat: String, Sendable, CaseIterable {
    /// An `ExportDocument`: the learner, every event and the merged progress.
    case json
    /// An `XAPIStatementResult`: xAPI 1.0.3 statements.
    case xapi
}
