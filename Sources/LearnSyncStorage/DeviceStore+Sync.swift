package import Foundation
import GRDB
import LearnSyncSQLite
package import LearnSyncModels

extension DeviceStore {
    /// The server link, token and cursor.
    package func syncState() async throws -> SyncState {
        var state = try await read { db in try Self.syncState(db) }
        try database {
            state.token = try secrets.secret(.token)
            state.secret = try secrets.secret(.deviceSecret)
        }
        return state
    }

    /// The server link and cursor (the credentials are in the secret store).
    static func syncState(_ db: Database) throws -> SyncState {
        let row = try Row.fetchOne(db, sql: "SELECT server, cursor, cursorMark, lastSyncAt FROM syncState WHERE id = 1")
        return SyncState(
            server: (row?["server"] as String?).flatMap(URL.init(string:)),
            token: nil,
            cursor: row?["cursor"] ?? 0,
            cursorMark: row?["cursorMark"],
            lastSyncAt: (row?["lastSyncAt"] as Int64?).map { Date(timeIntervalSince1970: Double($0) / 1000) },
            secret: nil)
    }

    /// Sets the server this device syncs with. A token belongs to the server that issued it: a
    /// new server gets none (a guest registers there, an account signs in there), starts from
    /// cursor 0, and is sent every event again, since it holds none of them.
    package func setServer(_ server: URL) async throws {
        let secrets = secrets
        try await write { db in
            if let current = try Self.syncState(db).server, current.isSameServer(as: server) { return }
            try secrets.setSecret(nil, for: .token)
            // Nothing has synced with the new server yet.
            try db.execute(
                sql: "UPDATE syncState SET server = ?, cursor = 0, cursorMark = NULL, lastSyncAt = NULL WHERE id = 1",
                arguments: [server.absoluteString])
            try Self.resendAll(db)
        }
    }

    /// The bearer token for the server, if the device has one (from the secret store, without
    /// reading the database).
    package func token() throws -> String? {
        try database { try secrets.secret(.token) }
    }

    /// Stores a new token (after registering, signing up or signing in).
    package func setToken(_ token: String?) async throws {
        try database { try secrets.setSecret(token, for: .token) }
    }

    /// This device's guest secret, made (128 random bits) and stored on first use.
    package func deviceSecret() async throws -> String {
        let secrets = secrets
        return try await write { _ in
            if let secret = try secrets.secret(.deviceSecret) { return secret }
            let secret = Self.newSecret()
            try secrets.setSecret(secret, for: .deviceSecret)
            return secret
        }
    }

    /// Events of the outbox, by replica and in the order each replica recorded them.
    package func pendingEvents(limit: Int) async throws -> [ProgressEvent] {
        try await read { db in try Outbox.events(limit: limit, db) }
    }

    /// The next batch to push: outbox events of one replica, in counter order, with the request's
    /// `lastSeq` for it. Events left under a replica id this device no longer
    /// records with (after a restore or a clone was detected) go first, under their own id: one
    /// of them may be stored already, from a round whose answer was lost, and moving it would
    /// count it twice.
    ///
    /// With `after`, the batch that follows one still in flight: the same replica's outbox events
    /// after that counter (none when the replica is neither this device's current one nor one it
    /// gave up, that is, when another sync moved it meanwhile).
    package func outboxBatch(limit: Int, after: EventID? = nil) throws -> OutboxBatch {
        try readNow { db in
            let identity = try Self.identity(db)
            let current = identity.replica
            let replica: ReplicaID
            if let after {
                replica = after.replica
            } else {
                // Two range seeks on the outbox's key (a `<>` would scan the whole outbox).
                let older = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT replica FROM outbox WHERE replica < ? LIMIT 1"), arguments: [current.rawValue])
                    ?? String.fetchOne(
                        db.cachedStatement(sql: "SELECT replica FROM outbox WHERE replica > ? LIMIT 1"), arguments: [current.rawValue])
                replica = older.map { ReplicaID(unchecked: $0) } ?? current
            }
            let events = try Outbox.events(replica: replica, after: after?.seq ?? 0, limit: limit, db)
            // Under a replica it gave up, the device claims none of the feed: it may hold events
            // of a clone under that id, and not all of them; the server sends every one again
            // (duplicates are ignored) rather than leave out some it lacks.
            let lastSeq = replica == current
                ? try Int64.fetchOne(db.cachedStatement(sql: "SELECT \(Self.nextSeqSQL) - 1 FROM device WHERE id = 1")) ?? 0
                : 0
            let state = try Row.fetchOne(db.cachedStatement(sql: "SELECT cursor, fetchedCatalog, cursorMark FROM syncState WHERE id = 1"))
            var batch = OutboxBatch(
                replica: replica, lastSeq: lastSeq, events: events, cursor: state?["cursor"] ?? 0, cursorMark: state?["cursorMark"],
                fetchedCatalog: state?["fetchedCatalog"])
            // Events of guests (recorded before a sign-in, or pulled): their attachments' proofs.
            // An account's own events, the usual batch, need none and read nothing.
            let guests = Set(events.lazy.map(\.learner).filter { $0 != identity.learner && $0.isGuest })
            // At most 100: the protocol's limit (`ProtocolLimits.maxAttestations`).
            for guest in guests.sorted().prefix(100) {
                if let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT proofAccount, proof FROM alias WHERE guest = ? AND proof IS NOT NULL"), arguments: [guest.rawValue]) {
                    batch.attestations.append((guest, LearnerID(unchecked: row["proofAccount"]), row["proof"]))
                }
            }
            return batch
        }
    }

    /// Whether any event waits in the outbox (an existence check: no count of a long outbox).
    package func hasPending() async throws -> Bool {
        try await read { db in try !Outbox.isEmpty(db) }
    }

    /// How many events wait in the outbox.
    package func pendingCount() async throws -> Int {
        try await read { db in try Outbox.count(db) }
    }

    /// How many events no server holds: those waiting in the outbox, and those a server held
    /// back (its catalog does not know their item yet) or refused. They exist on this device only.
    package func unstoredCount() async throws -> Int {
        try await read { db in
            try Outbox.count(db) + (Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM event WHERE verdict IN (\(Verdict.held.rawValue), \(Verdict.refused.rawValue))") ?? 0)
        }
    }

    /// Puts every event of the log back into the outbox but the held and refused ones (a server
    /// that holds none of them); returns how many went back.
    @discardableResult
    static func resendAll(_ db: Database) throws -> Int {
        try db.execute(sql: "INSERT OR IGNORE INTO outbox (replica, seq) SELECT replica, seq FROM event WHERE verdict = \(Verdict.none.rawValue)")
        return db.changesCount
    }

    /// The events servers refused, with their reasons: held until the server's catalog changes,
    /// or refused for good. Every one of them is still in the log.
    package func rejectedEvents() async throws -> [RejectedEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(EventRow.columns), refusal.code, refusal.reason, event.verdict FROM event
                JOIN refusal USING (replica, seq) WHERE event.verdict IN (2, 3) ORDER BY event.replica, event.seq
                """).map { row in
                RejectedEvent(
                    event: try EventRow.decode(row), code: row["code"], reason: row["reason"], willRetry: row["verdict"] == Verdict.held.rawValue)
            }
        }
    }

    /// Where each event this device moved to a new replica id went (old id → new id).
    package func movedEvents() async throws -> [EventID: EventID] {
        try await read { db in
            var moved = [EventID: EventID]()
            for row in try Row.fetchAll(db, sql: "SELECT replica, seq, toReplica, toSeq FROM movedEvent") {
                moved[EventID(replica: ReplicaID(unchecked: row["replica"]), seq: row["seq"])] =
                    EventID(replica: ReplicaID(unchecked: row["toReplica"]), seq: row["toSeq"])
            }
            return moved
        }
    }

    /// Server time minus device time, in milliseconds, as measured at the last sync.
    package func clockOffset() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT clockOffset FROM device WHERE id = 1") ?? 0 }
    }

    /// Stores one round trip's answer in one transaction: acknowledged events leave the outbox,
    /// refused ones stay in the log (held for a catalog change, moved to a new replica id, or
    /// refused for good), retimed ones take the server's time, pulled events and aliases are
    /// merged, and the cursor moves. If the transaction fails nothing changes, and the next round
    /// re-sends the same events (the server ignores duplicates).
    ///
    /// - Returns: whether events are still in the outbox (recorded while the round was out, or
    ///   beyond the round's page). An existence check: counting the outbox on every round of a
    ///   long catch-up made pushing quadratic in the outbox's size.
    @discardableResult
    package func apply(_ result: SyncRoundResult, now: Date = Date()) async throws -> Bool {
        try await applied(result, now: now).morePending
    }

    /// What storing a round's answer came to.
    package struct AppliedRound: Sendable {
        /// Events are still in the outbox.
        package var morePending: Bool
        /// The device stored another cursor than the answer's: it pulls the feed from the start
        /// (a new replica id, moved events, or a server that forgot events it had acknowledged).
        /// A request already sent with the answer's cursor must not be stored.
        package var cursorReset: Bool
    }

    /// Stores one round trip's answer (``apply(_:now:)``): plans it (``AnswerPlan``), then runs
    /// the plan's steps in one transaction.
    package func applied(_ result: SyncRoundResult, now: Date = Date()) async throws -> AppliedRound {
        let catalog = catalog
        return try await writeSeries { db in try db.immediateTransaction {
            try Self.saveClock(db)
            let identity = try Self.identity(db)
            var plan = AnswerPlan(
                result, current: identity.replica,
                previousServerCatalog: try String.fetchOne(db.cachedStatement(sql: "SELECT serverCatalog FROM syncState WHERE id = 1")))
            var progress = try ProgressWriter(db: db, catalog: catalog)
            var needsRebuild = false
            var rebuildCourses = Set<CourseID>()

            // The recorded tail stays out of the table unless the plan says otherwise: which
            // events move, and whether a pulled one meets an unacknowledged one, are read from
            // the table alone.
            var tail = try Outbox.Tail(of: identity.replica, db)
            if plan.takesRecordedTail { try tail.take(db) }
            try Self.acknowledge(try tail.acknowledge(result.pushed, db), except: result.refused, db)
            if !result.retimed.isEmpty {
                rebuildCourses = try Self.retime(result.retimed, of: result.pushed, replica: plan.replica, &progress, db)
            }
            if plan.releasesHeldEvents, let serverCatalog = result.serverCatalog {
                try Self.releaseHeld(newServerCatalog: serverCatalog, db)
            }
            if !plan.erasedLearnerEvents.isEmpty, try Self.removeErased(plan.erasedLearnerEvents, own: identity.learner, db) {
                needsRebuild = true
            }
            try Self.mark(plan.held, .held, db)
            try Self.mark(plan.refused, .refused, db)
            plan.meet(try Self.collisions(result.pulled.filter { $0.id.replica == plan.replica }, db))
            if plan.resendsEverything { try tail.take(db); try Self.resendAll(db) }
            if plan.movesEvents {
                rebuildCourses.formUnion(
                    try Self.move(from: plan.replica, seq: plan.moveFrom ?? .max, renewing: plan.isCurrentReplica, db))
            }
            if plan.reoffersGivenUpReplica {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO outbox (replica, seq) SELECT replica, seq FROM event WHERE replica = ? AND verdict = 0",
                    arguments: [plan.replica.rawValue])
            }
            var forgotten = false
            if let stored = plan.forgottenCheckAbove,
               try Self.forgotten(plan.replica, above: stored, tailMark: plan.isCurrentReplica && !tail.isTaken ? tail.mark : nil, db) {
                forgotten = true
                if plan.isCurrentReplica { try tail.take(db) }
                try db.execute(
                    sql: "INSERT OR IGNORE INTO outbox (replica, seq) SELECT replica, seq FROM event WHERE replica = ? AND seq > ? AND verdict = 0",
                    arguments: [plan.replica.rawValue, stored])
            }
            if try Self.storeAliases(result, &progress, db) { needsRebuild = true }
            let new = try EventRow.Inserter(db).insert(result.pulled)
            if new.count < result.pulled.count { try Self.storedElsewhere(result.pulled, db) }
            if !needsRebuild { try progress.apply(logged: new) }
            let root = try Self.currentRoot(db)
            if needsRebuild {
                try progress.rebuild(learner: root)
            } else {
                for course in rebuildCourses { try progress.rebuild(learner: root, course: course) }
            }
            try progress.flush()
            try Self.advanceClock(past: new, offset: result.clockOffset, now: now, db)
            let cursor = plan.cursor(forgotten: forgotten)
            try db.cachedStatement(sql: "UPDATE syncState SET cursor = ?, cursorMark = ?, lastSyncAt = ? WHERE id = 1")
                .execute(arguments: [cursor, plan.cursorMark(for: cursor), now.millisecondsSince1970])
            try tail.close(db)
            return AppliedRound(morePending: try !Outbox.isEmpty(db), cursorReset: cursor != result.cursor)
        } }
    }

    /// Sends the events held for the server's old catalog again (those the answer refuses again
    /// are held again after this), and remembers the new one.
    private static func releaseHeld(newServerCatalog: String, _ db: Database) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO outbox (replica, seq) SELECT replica, seq FROM event WHERE verdict = \(Verdict.held.rawValue);
            UPDATE event SET verdict = \(Verdict.none.rawValue) WHERE verdict = \(Verdict.held.rawValue)
            """)
        try db.execute(sql: "UPDATE syncState SET serverCatalog = ? WHERE id = 1", arguments: [newServerCatalog])
    }

    /// Keeps refused events in the log as `state`, out of the outbox, with their reasons. An
    /// event already gone (an erased learner's, removed just before) is skipped.
    private static func mark(_ refusals: [Refusal], _ state: Verdict, _ db: Database) throws {
        for refusal in refusals {
            let id: StatementArguments = [refusal.id.replica.rawValue, refusal.id.seq]
            try db.execute(sql: "UPDATE event SET verdict = ? WHERE replica = ? AND seq = ?", arguments: [state.rawValue] + id)
            guard db.changesCount > 0 else { continue }
            try db.execute(sql: "DELETE FROM outbox WHERE replica = ? AND seq = ?", arguments: id)
            try db.execute(
                sql: "INSERT OR REPLACE INTO refusal (replica, seq, code, reason) VALUES (?, ?, ?, ?)",
                arguments: id + [refusal.code, refusal.reason])
        }
    }

    /// The counters of `pulled` events (of the answer's replica) under which the log holds a
    /// different event no server acknowledged.
    private static func collisions(_ pulled: [ProgressEvent], _ db: Database) throws -> [Int64] {
        try pulled.filter { event in
            guard let local = try EventRow.fetchOne(db, id: event.id), local != event else { return false }
            return try EventRow.isUnacknowledged(db, id: event.id)
        }.map(\.id.seq)
    }

    /// Stores the answer's guest → account edges and their proofs; returns whether an edge joined
    /// a guest whose events this device holds (its progress must be rebuilt).
    private static func storeAliases(_ result: SyncRoundResult, _ progress: inout ProgressWriter, _ db: Database) throws -> Bool {
        var joined = false
        for edge in result.aliases where try progress.insertAlias(guest: edge.guest, account: edge.account) {
            // A guest this device holds no events of changes no progress here.
            if try progress.hasEvents(of: edge.guest) { joined = true }
        }
        for (guest, proof) in result.aliasProofs {
            try db.cachedStatement(sql: "UPDATE alias SET proof = ?, proofAccount = account WHERE guest = ? AND proof IS NOT ?")
                .execute(arguments: [proof, guest.rawValue, proof])
        }
        return joined
    }

    /// Stores the measured clock offset, and lets the clock's own rule decide whether the latest
    /// pulled time moves it (within a minute of the corrected wall time only).
    private static func advanceClock(past pulled: [ProgressEvent], offset: Int64?, now: Date, _ db: Database) throws {
        if let offset {
            try db.cachedStatement(sql: "UPDATE device SET clockOffset = ? WHERE id = 1").execute(arguments: [offset])
        }
        let latest = pulled.lazy.map(\.timestamp).max() ?? HLCTimestamp(rawValue: 0)
        let device = try Row.fetchOne(db.cachedStatement(sql: "SELECT hlc, clockOffset FROM device WHERE id = 1"))
        var clock = HybridLogicalClock(latest: HLCTimestamp(rawValue: device?["hlc"] ?? 0))
        clock.receive(latest, now: now.millisecondsSince1970 + (device?["clockOffset"] ?? 0))
        try db.cachedStatement(sql: "UPDATE device SET hlc = ? WHERE id = 1").execute(arguments: [clock.latest.rawValue])
    }

    /// Pulled events this device holds as held back or refused: the server stores them (another
    /// device brought them, its guest attached again after the server forgot the attachment), so
    /// they are stored, as the pulled copy is. One look at the refusals, which are usually none.
    private static func storedElsewhere(_ pulled: [ProgressEvent], _ db: Database) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM refusal)")) == true else { return }
        for event in pulled {
            let id: StatementArguments = [event.id.replica.rawValue, event.id.seq]
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM refusal WHERE replica = ? AND seq = ?)"), arguments: id) == true,
                  try EventRow.fetchOne(db, id: event.id) == event
            else { continue }
            try db.execute(sql: "DELETE FROM refusal WHERE replica = ? AND seq = ?", arguments: id)
            try db.execute(sql: "UPDATE event SET verdict = \(Verdict.none.rawValue) WHERE replica = ? AND seq = ?", arguments: id)
        }
    }

    /// Whether the log holds an event of `replica` above `stored` that a server acknowledged (in
    /// no outbox, neither held nor refused; for the device's replica, at most `tailMark`, past
    /// which the recorded tail waits), looked for below the first event the outbox still holds
    /// above `stored`: two index seeks, however long the outbox. (Probing the outbox for every
    /// event of the range made a long push quadratic: 1,000,000 events took minutes.) An
    /// acknowledged event above a queued one is found once that one is sent: the server's answer
    /// to it names a `stored` at or past it.
    private static func forgotten(_ replica: ReplicaID, above stored: Int64, tailMark: Int64?, _ db: Database) throws -> Bool {
        let firstQueued = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT MIN(seq) FROM outbox WHERE replica = ? AND seq > ?"), arguments: [replica.rawValue, stored])
        let upper = min(tailMark ?? .max, firstQueued.map { $0 - 1 } ?? .max)
        guard upper > stored else { return false }
        return try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM event WHERE replica = ? AND seq > ? AND seq <= ? AND verdict = 0)"),
            arguments: [replica.rawValue, stored, upper]) ?? false
    }

    /// Gives pushed events the times the server stored them at. Their progress follows in place
    /// (rebuilding the course from the log in every round made a long push from a phone whose
    /// clock ran ahead quadratic); returns the courses that must be rebuilt instead.
    private static func retime(
        _ retimed: [(seq: Int64, hlc: HLCTimestamp)], of pushed: [ProgressEvent], replica: ReplicaID, _ progress: inout ProgressWriter,
        _ db: Database
    ) throws -> Set<CourseID> {
        let pushed = Dictionary(pushed.map { ($0.id.seq, $0) }, uniquingKeysWith: { first, _ in first })
        let update = try db.cachedStatement(sql: "UPDATE event SET hlc = ? WHERE replica = ? AND seq = ?")
        var rebuild = Set<CourseID>()
        for entry in retimed {
            var binding = update.startBinding()
            binding.bind(entry.hlc.rawValue, at: 1)
            binding.bind(replica.rawValue, at: 2)
            binding.bind(entry.seq, at: 3)
            try binding.execute()
            if let event = pushed[entry.seq], !rebuild.contains(event.course), try !progress.retime(event, to: entry.hlc) {
                rebuild.insert(event.course)
            }
        }
        return rebuild
    }

    /// Takes the pushed events the answer accepted out of the outbox, in one range delete per
    /// run of pushed counters between refusals. A range is taken only when the outbox holds
    /// exactly the run's events in it (read from its key): another sync, or a resend, may have
    /// put events back into the outbox since this batch was read, and those were not pushed;
    /// then each event is acknowledged by its id.
    private static func acknowledge(_ pushed: [ProgressEvent], except refused: [Refusal], _ db: Database) throws {
        let outbox = try db.cachedStatement(sql: "SELECT seq FROM outbox WHERE replica = ? AND seq BETWEEN ? AND ? ORDER BY seq")
        let range = try db.cachedStatement(sql: "DELETE FROM outbox WHERE replica = ? AND seq BETWEEN ? AND ?")
        let single = try db.cachedStatement(sql: "DELETE FROM outbox WHERE replica = ? AND seq = ?")
        func acknowledge(_ run: ArraySlice<ProgressEvent>) throws {
            guard let first = run.first?.id, let last = run.last?.id else { return }
            let arguments: StatementArguments = [first.replica.rawValue, first.seq, last.seq]
            if try Int64.fetchAll(outbox, arguments: arguments).elementsEqual(run.lazy.map(\.id.seq)) {
                try range.execute(arguments: arguments)
            } else {
                for event in run { try single.execute(arguments: [event.id.replica.rawValue, event.id.seq]) }
            }
        }
        let refusedIDs = Set(refused.map(\.id))
        var start = pushed.startIndex
        for index in pushed.indices {
            let id = pushed[index].id
            if refusedIDs.contains(id) {
                try acknowledge(pushed[start..<index])
                start = index + 1
            } else if index > start, pushed[index - 1].id.replica != id.replica || pushed[index - 1].id.seq >= id.seq {
                try acknowledge(pushed[start..<index])
                start = index
            }
        }
        try acknowledge(pushed[start...])
    }

    /// Moves this device's unacknowledged events of `replica` from counter `seq` on to another
    /// id, in order, back in the outbox: to a new replica id that the device records with from
    /// now on when `renewing` (its current one must be given up), else to its current replica
    /// after its last counter. Resets among its unacknowledged events name them by their new ids.
    /// Returns the courses touched.
    private static func move(from replica: ReplicaID, seq from: Int64, renewing: Bool, _ db: Database) throws -> Set<CourseID> {
        let newReplica = renewing ? ReplicaID.random() : try identity(db).replica
        let firstSeq: Int64 = renewing ? 1 : try Int64.fetchOne(db, sql: "SELECT \(nextSeqSQL) FROM device WHERE id = 1") ?? 1
        let moving = try EventRow.fetchAll(
            db, sql: "SELECT \(EventRow.columns) FROM event WHERE replica = ? AND seq >= ? AND \(EventRow.unacknowledgedSQL) ORDER BY seq",
            arguments: [replica.rawValue, from])
        var map = [Int64: Int64]()
        for (index, event) in moving.enumerated() { map[event.id.seq] = firstSeq + Int64(index) }
        var courses = Set<CourseID>()
        let log = try EventRow.Inserter(db)
        for event in moving {
            let to = map[event.id.seq]!
            var payload = event.payload
            if case .courseReset(var seen) = payload {
                seen.rename(replica, movedTo: newReplica, moved: map)
                payload = .courseReset(seen: seen)
            }
            for table in ["event", "outbox", "refusal"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE replica = ? AND seq = ?", arguments: [replica.rawValue, event.id.seq])
            }
            let moved = try ProgressEvent(
                id: EventID(replica: newReplica, seq: to), learner: event.learner, timestamp: event.timestamp, course: event.course,
                payload: payload)
            guard try log.insert(moved) else { throw StorageError(.database, "the moved event's new id \(moved.id) is taken") }
            try EventRow.enqueue(moved.id, db)
            try db.execute(
                sql: "INSERT OR REPLACE INTO movedEvent (replica, seq, toReplica, toSeq) VALUES (?, ?, ?, ?)",
                arguments: [replica.rawValue, event.id.seq, newReplica.rawValue, to])
            courses.insert(event.course)
        }
        // Unacknowledged resets that stay under the old id may name moved events too.
        for reset in try EventRow.fetchAll(
            db, sql: "SELECT \(EventRow.columns) FROM event WHERE type = 'course.reset' AND \(EventRow.unacknowledgedSQL) AND replica <> ?",
            arguments: [newReplica.rawValue])
        {
            guard case .courseReset(var seen) = reset.payload else { continue }
            seen.rename(replica, movedTo: newReplica, moved: map)
            try db.execute(
                sql: "UPDATE event SET seen = ? WHERE replica = ? AND seq = ?",
                arguments: [seen.text, reset.id.replica.rawValue, reset.id.seq])
            courses.insert(reset.course)
        }
        try db.execute(
            sql: "UPDATE device SET replica = ?, nextSeq = ? WHERE id = 1",
            arguments: [newReplica.rawValue, firstSeq + Int64(moving.count)])
        return courses
    }
}

extension Date {
    var millisecondsSince1970: Int64 { Int64(timeIntervalSince1970 * 1000) }
}
