import GRDB
import LearnSyncSQLite
package import LearnSyncModels

extension DeviceStore {
    /// After signing up or in: the device's guest is attached to `account`, new events are
    /// recorded as the account, the token is the account's, and the cursor starts over so the
    /// account's whole feed is pulled. One transaction; calling it again changes nothing.
    ///
    /// - Throws: ``StorageError`` `invalidEvent` when the device is signed in to another account.
    package func attach(to account: LearnerID, token: String) async throws {
        let catalog = catalog, secrets = secrets
        try await write { db in
            let identity = try Self.identity(db)
            var progress = try ProgressWriter(db: db, catalog: catalog)
            if identity.learner == account {
                // A new token for the account this device is signed in to.
                try secrets.setSecret(token, for: .token)
                return
            }
            if identity.learner.isGuest {
                _ = try progress.insertAlias(guest: identity.learner, account: account)
                try db.execute(sql: "UPDATE device SET guest = ? WHERE id = 1", arguments: [identity.learner.rawValue])
            } else {
                throw StorageError(.invalidEvent, "this device is signed in to another account: sign out first")
            }
            // The token is stored first: should the transaction then fail, the device is still the
            // guest, which the account's token may act for.
            try secrets.setSecret(token, for: .token)
            try db.execute(sql: "UPDATE device SET learner = ? WHERE id = 1", arguments: [account.rawValue])
            try db.execute(sql: "UPDATE syncState SET cursor = 0 WHERE id = 1")
            try progress.rebuild(learner: account)
            try progress.flush()
        }
    }

    /// The guest this device was before it signed up or in, if it was one (recorded since
    /// schema v10).
    package func ownGuest() async throws -> LearnerID? {
        try await read { db in try String.fetchOne(db, sql: "SELECT guest FROM device WHERE id = 1").map { LearnerID(unchecked: $0) } }
    }

    /// After a server that forgot the account `previous` this device is signed in to
    /// (`SessionResponse.previousForgotten`): the device moves that account's progress into
    /// `account`, in one transaction. Its events of `previous` become events of `account` under
    /// the same ids (the server holds none of them), the guests attached to `previous` are
    /// attached to `account`, every event of the log goes back to the outbox (the server forgot
    /// them all), and the feed is pulled from the start.
    ///
    /// - Throws: ``StorageError`` `invalidEvent` when the device is not signed in to `previous`.
    package func rehome(from previous: LearnerID, to account: LearnerID, token: String) async throws {
        let catalog = catalog, secrets = secrets
        try await write { db in
            guard try Self.identity(db).learner == previous, !previous.isGuest, !account.isGuest else {
                throw StorageError(.invalidEvent, "this device is not signed in to the account \(previous)")
            }
            try secrets.setSecret(token, for: .token)
            try Outbox.withTable(db) {
                let ids: StatementArguments = [account.rawValue, previous.rawValue]
                try db.execute(sql: "UPDATE event SET learner = ? WHERE learner = ?", arguments: ids)
                try db.execute(sql: "UPDATE alias SET account = ? WHERE account = ?", arguments: ids)
                try db.execute(sql: "DELETE FROM progress WHERE learner = ?", arguments: [previous.rawValue])
                try db.execute(sql: "UPDATE device SET learner = ? WHERE id = 1", arguments: [account.rawValue])
                try db.execute(sql: "UPDATE syncState SET cursor = 0, cursorMark = NULL WHERE id = 1")
                try Self.resendAll(db)
            }
            var progress = try ProgressWriter(db: db, catalog: catalog)
            try progress.rebuild(learner: account)
            try progress.flush()
        }
    }

    /// Whether the log holds any event.
    package func hasLocalEvents() async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM event)") ?? false }
    }

    /// Removes every learner's data from the device (events, outbox, progress, aliases, refused
    /// events, token, secret, cursor) and starts over as a new guest on a new replica, keeping
    /// only the server address. Used when signing out of a shared device, and with a `notice`
    /// when the learner was erased.
    package func wipe(notice: DeviceNotice? = nil) async throws {
        // Deleted content is overwritten in the file, not left in free pages.
        try await database { try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA secure_delete = ON") } }
        let secrets = secrets
        // The secrets change first: a token left behind for a new guest would speak for the old
        // learner. If the database then fails (a full disk), they are put back, so the learner is
        // still signed in; when even that cannot be written, the device keeps its data and asks
        // to sign in again, and signing out again finishes the wipe.
        let kept = try database { (token: try secrets.secret(.token), secret: try secrets.secret(.deviceSecret)) }
        do {
            try await write { db in
                try secrets.setSecret(nil, for: .token)
                try secrets.setSecret(Self.newSecret(), for: .deviceSecret)
                try db.execute(sql: """
                    DELETE FROM event; DELETE FROM outbox; DELETE FROM refusal; DELETE FROM movedEvent; DELETE FROM alias; DELETE FROM progress;
                    UPDATE syncState SET cursor = 0, lastSyncAt = NULL WHERE id = 1;
                    """)
                try Self.store(notice, db)
                try db.execute(
                    sql: "UPDATE device SET replica = ?, learner = ?, guest = NULL, nextSeq = 1, hlc = 0 WHERE id = 1",
                    arguments: [ReplicaID.random().rawValue, LearnerID.newGuest().rawValue])
            }
        } catch {
            try? secrets.setSecret(kept.secret, for: .deviceSecret)
            try? secrets.setSecret(kept.token, for: .token)
            throw error
        }
        // Rewrite the file, then empty the WAL, which still holds the old pages until then. A
        // connection that keeps reading the file holds those pages: then the wipe fails loudly
        // rather than leave the learner's data in the file while reporting success.
        do {
            try await writer.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                _ = try db.checkpoint(.truncate)
            }
        } catch let error where DiskFailure(error) != nil {
            throw StorageError(
                DiskFailure(error) == .full ? .diskFull : .database,
                "the learner's data is gone from the store's tables, but the disk is full or failing and the file could not be rewritten: free some space and sign out again to clear it",
                cause: error)
        } catch {
            throw StorageError(
                .busy,
                "the learner's data is gone from the store's tables, but another connection reading the device file keeps old copies in it: close it and sign out again",
                cause: error)
        }
    }
}
