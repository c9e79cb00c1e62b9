import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Synchronization
import Testing

/// `DELETE /v1/account`: all or nothing, only tombstones remain, and nothing comes back.
@Suite struct ErasureTests {
    static let secret = "a-device-secret-of-enough-length"

    /// A server on a SQLite file or a PostgreSQL database, to hold one account with two attached
    /// guests and their events.
    struct Populated {
        let folder: URL
        let sqlite: SQLiteServerStore?
        let postgres: RunningPostgresStore?
        let server: TestServer
        var path: String { folder.appendingPathComponent("server.sqlite").path }

        init(_ kind: StoreKind, label: String = #function) async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("erasure-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            switch kind {
            case .sqlite:
                let store = try SQLiteServerStore(path: folder.appendingPathComponent("server.sqlite").path)
                (sqlite, postgres) = (store, nil)
                server = try TestServer(store: store)
            case .postgres, .pgbouncer:
                let running = try await RunningPostgresStore(label, throughPooler: kind == .pgbouncer)
                (sqlite, postgres) = (nil, running)
                server = try TestServer(store: running.store, running: running)
            }
        }

        /// How many rows each table holds, read from the database itself.
        func rowCounts(_ tables: [String]) async throws -> [Int] {
            if let postgres {
                var counts = [Int]()
                for table in tables { counts.append(Int(try await TestPostgres.query(postgres.store.location, "SELECT COUNT(*) FROM \(table)")) ?? -1) }
                return counts
            }
            let queue = try DatabaseQueue(path: path)
            return try await queue.read { db in try tables.map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? -1 } }
        }
    }

    struct Learner {
        var account: LearnerID
        var token: String
        var guests: [LearnerID]
        var replicas: [ReplicaID]
    }

    /// Two guests record on their own replicas; one signs up as `username`, the other signs in.
    static func populate(_ client: any TestClientProtocol, username: String) async throws -> Learner {
        var guests = [LearnerID](), replicas = [ReplicaID](), token = ""
        var account = LearnerID.newAccount()
        for index in 0..<2 {
            let (guest, guestToken) = try await client.registerGuest(secret: secret)
            var factory = EventFactory(learner: guest)
            let events = try [factory.make(.lessonCompleted(lesson: "keep-secure")), factory.make(.timeSpent(lesson: "keep-secure", seconds: 60))]
            _ = try await client.sync(SyncRequest(replica: factory.replica, lastSeq: 2, cursor: 0, events: events), token: guestToken)
            let proof = GuestProof(learner: guest, secret: secret)
            if index == 0 {
                (account, token) = try await client.signUp(username, guest: proof)
            } else {
                #expect(try await client.signIn(username, guest: proof).status == .ok)
            }
            guests.append(guest)
            replicas.append(factory.replica)
        }
        return Learner(account: account, token: token, guests: guests, replicas: replicas)
    }

    @Test(arguments: StoreKind.all) func erasureNeedsThePasswordAndChangesNothingWithoutIt(_ store: StoreKind) async throws {
        let world = try await Populated(store)
        try await world.server.test { client in
            let learner = try await Self.populate(client, username: "erin")
            let before = try await client.get("/v1/export", token: learner.token).decode(ExportDocument.self)
            #expect(before.events.count == 4 && before.guests.count == 2)

            let wrong = try await client.delete("/v1/account", json: DeleteAccountRequest(password: "not the password"), token: learner.token)
            #expect(wrong.status == .unauthorized)
            let missing = try await client.delete("/v1/account", json: DeleteAccountRequest(password: nil), token: learner.token)
            #expect(missing.status == .badRequest && missing.problem?.code == "invalid-request")
            let noToken = try await client.delete("/v1/account", json: DeleteAccountRequest(password: "a long password"), token: nil)
            #expect(noToken.status == .unauthorized)
            let after = try await client.get("/v1/export", token: learner.token).decode(ExportDocument.self)
            #expect(after.events == before.events && after.guests == before.guests)
        }
    }

    @Test(arguments: StoreKind.all) func erasureLeavesOnlyTombstones(_ store: StoreKind) async throws {
        let world = try await Populated(store)
        _ = try await world.populateAndErase(username: "erasable-user")
        #expect(try await world.rowCounts(["learner", "session", "alias", "event", "replica"]) == [0, 0, 0, 0, 0])
        #expect(try await world.rowCounts(["tombstone"]) == [3])
    }

    @Test func erasureLeavesOnlyTombstonesAndNoTraceInTheFile() async throws {
        let world = try await Populated(.sqlite)
        let learner = try await world.populateAndErase(username: "erasable-user")
        try await world.sqlite!.checkpoint()
        let queue = try DatabaseQueue(path: world.path)
        try await queue.read { db in
            for table in ["learner", "session", "alias", "event", "replica"] {
                #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") == 0, "table \(table) still holds rows")
            }
            let tombstones = try Row.fetchAll(db, sql: "SELECT learner, reason FROM tombstone ORDER BY learner")
            #expect(Set(tombstones.map { $0[0] as String }) == Set(([learner.account] + learner.guests).map(\.rawValue)))
            #expect(tombstones.allSatisfy { $0[1] == "erased" })
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM erasedSession") ?? 0 >= 3)
        }
        // secure_delete overwrote the freed rows: the username and the replica ids are gone from
        // the file itself, not only from the tables.
        let mode = try FileManager.default.attributesOfItem(atPath: world.path)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the server database is its owner's only")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: world.path))
        for secret in ["erasable-user"] + learner.replicas.map(\.rawValue) {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) is still in the database file")
        }
    }

    /// Without a checkpoint by the test: the erasure itself empties the write-ahead log, which
    /// would otherwise keep copies of the erased rows until it starts over (never, on a quiet
    /// server).
    @Test func anErasureLeavesNoCopyInTheWriteAheadLog() async throws {
        let world = try await Populated(.sqlite)
        let learner = try await world.populateAndErase(username: "logged-user")
        for path in [world.path, world.path + "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
            for secret in ["logged-user"] + learner.replicas.map(\.rawValue) {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) is still in \(path)")
            }
        }
    }

    @Test(arguments: StoreKind.all) func nothingOfAnErasedLearnerComesBack(_ store: StoreKind) async throws {
        let world = try await Populated(store)
        try await world.server.test { client in
            let learner = try await Self.populate(client, username: "gone")
            let (other, otherToken) = try await client.signUp("stays")
            let erased = try await client.delete("/v1/account", json: DeleteAccountRequest(password: "a long password"), token: learner.token)
            #expect(erased.status == .ok)
            let receipt = try erased.decode(DeleteAccountResponse.self)
            #expect(receipt.learner == learner.account && receipt.guests == 2 && receipt.events == 4)

            // An offline device of the account comes back with new events: refused, 410, nothing stored.
            var late = EventFactory(learner: learner.account)
            let push = try await client.post(
                "/v1/sync", json: SyncRequest(replica: late.replica, lastSeq: 1, cursor: 0, events: [late.make(.lessonStarted(lesson: "keep-secure"))]),
                token: learner.token)
            #expect(push.status == .gone && push.problem?.code == "learner-erased")
            // A guest's device that never learned it was attached registers again: 410.
            let again = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: learner.guests[0], secret: Self.secret))
            #expect(again.status == .gone && again.problem?.code == "learner-erased")
            // Attaching the erased guest to another account: 410, and the other account is unchanged.
            let attach = try await client.signIn("stays", guest: GuestProof(learner: learner.guests[1], secret: Self.secret))
            #expect(attach.status == .gone)
            // The username signs in no more; export and progress answer 410.
            #expect(try await client.signIn("gone").status == .unauthorized)
            #expect(try await client.get("/v1/export", token: learner.token).status == .gone)
            #expect(try await client.get("/v1/progress", token: learner.token).status == .gone)
            // Another learner pushing an erased learner's event is refused erased-learner.
            var smuggled = EventFactory(learner: learner.guests[0])
            let answer = try await client.sync(
                SyncRequest(replica: smuggled.replica, lastSeq: 1, cursor: 0, events: [smuggled.make(.lessonStarted(lesson: "keep-secure"))]),
                token: otherToken)
            #expect(answer.rejected.map(\.code) == ["erased-learner"])
            let export = try await client.get("/v1/export", token: otherToken).decode(ExportDocument.self)
            #expect(export.learner.id == other && export.events.isEmpty && export.guests.isEmpty)
            // The username is free again, for a new account with a new id.
            let (reborn, _) = try await client.signUp("gone")
            #expect(reborn != learner.account)
        }
    }

    @Test(arguments: StoreKind.all) func erasureDuringOtherDevicesSyncs(_ store: StoreKind) async throws {
        let world = try await Populated(store)
        try await world.server.test { client in
            let learner = try await Self.populate(client, username: "racing")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for device in 0..<12 {
                    group.addTask {
                        var factory = EventFactory(learner: learner.account)
                        let events = try (0..<20).map { _ in try factory.make(.timeSpent(lesson: "keep-secure", seconds: 5 + device)) }
                        return try await client.post(
                            "/v1/sync", json: SyncRequest(replica: factory.replica, lastSeq: 20, cursor: 0, events: events), token: learner.token
                        ).status
                    }
                }
                group.addTask {
                    try await client.delete("/v1/account", json: DeleteAccountRequest(password: "a long password"), token: learner.token).status
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            // Every sync was either stored before the erasure (then erased with it) or refused after.
            #expect(statuses.allSatisfy { $0 == .ok || $0 == .gone })
            #expect(statuses.filter { $0 == .ok }.count >= 1)
        }
        let counts = try await world.rowCounts(["event", "replica", "learner"])
        #expect(counts == [0, 0, 0])
    }

    @Test(arguments: StoreKind.all) func aGuestErasesItselfWithItsToken(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (guest, token) = try await client.registerGuest(secret: Self.secret)
            var factory = EventFactory(learner: guest)
            _ = try await client.sync(
                SyncRequest(replica: factory.replica, lastSeq: 1, cursor: 0, events: [factory.make(.lessonStarted(lesson: "keep-secure"))]), token: token)
            let erased = try await client.delete("/v1/account", json: DeleteAccountRequest(password: nil), token: token)
            #expect(erased.status == .ok)
            #expect(try erased.decode(DeleteAccountResponse.self).events == 1)
            let again = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: guest, secret: Self.secret))
            #expect(again.status == .gone)
        }
    }
}

extension ErasureTests.Populated {
    func populateAndErase(username: String) async throws -> ErasureTests.Learner {
        try await withResult { client in
            let learner = try await ErasureTests.populate(client, username: username)
            let erased = try await client.delete("/v1/account", json: DeleteAccountRequest(password: "a long password"), token: learner.token)
            #expect(erased.status == .ok)
            return learner
        }
    }

    func withResult<T: Sendable>(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> T) async throws -> T {
        let box = ResultBox<T>()
        try await server.test { client in box.set(try await body(client)) }
        return try #require(box.value)
    }
}

/// Carries a value out of a `@Sendable` closure.
final class ResultBox<T: Sendable>: Sendable {
    private let storage = Mutex<T?>(nil)
    func set(_ value: T) { storage.withLock { $0 = value } }
    var value: T? { storage.withLock { $0 } }
}

extension ErasureTests {
    /// A phone's token ended (signed out everywhere from a tablet) and was swept; the account is
    /// erased afterwards: the phone, syncing with its old token, is told `learner-erased` and
    /// wipes, rather than keeping the learner's data with no way to learn of the erasure.
    @Test(arguments: StoreKind.all) func anErasureReachesATokenThatEndedAndWasSwept(_ store: StoreKind) async throws {
        let world = try await Populated(store)
        let service = world.server.service
        try await world.server.test { client in
            let (account, phone) = try await client.signUp("long-gone")
            let tablet = try await client.signIn("long-gone").decode(SessionResponse.self).token
            let ended = try await client.post("/v1/signout", json: SignOutRequest(everywhere: true), token: tablet)
            #expect(ended.status == .ok)
            // Both tokens ended and are swept.
            #expect(try await service.sweep(guestRetention: 86_400_000).sessions == 2)
            // Before the erasure the old token is only unknown.
            var factory = EventFactory(learner: account)
            let push = SyncRequest(replica: factory.replica, lastSeq: 1, cursor: 0, events: [try factory.make(.lessonStarted(lesson: "keep-secure"))])
            #expect(try await client.post("/v1/sync", json: push, token: phone).status == .unauthorized)

            let fresh = try await client.signIn("long-gone").decode(SessionResponse.self).token
            let erased = try await client.delete("/v1/account", json: DeleteAccountRequest(password: "a long password"), token: fresh)
            #expect(erased.status == .ok)
            let answer = try await client.post("/v1/sync", json: push, token: phone)
            #expect(answer.status == .gone && answer.problem?.code == "learner-erased")
        }
        // The erasure took the ended tokens' hashes with it into the tombstones.
        #expect(try await world.rowCounts(["retiredSession".sqlOrPostgres(store), "session"]) == [0, 0])
    }
}

extension String {
    /// This SQLite table name as the PostgreSQL schema spells it.
    fileprivate func sqlOrPostgres(_ store: StoreKind) -> String {
        guard store != .sqlite else { return self }
        return reduce(into: "") { name, character in
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
    }
}
