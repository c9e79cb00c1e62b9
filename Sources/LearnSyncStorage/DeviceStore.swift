import Foundation
import GRDB
import LearnSyncMerge
import LearnSyncSQLite
public import LearnSyncModels

/// Who this device is: its replica id and the learner it records for.
public struct DeviceIdentity: Hashable, Sendable {
    /// This store's replica id; it numbers every event recorded here.
    public var replica: ReplicaID
    /// The learner new events are recorded for: a guest, or the account after signing in.
    public var learner: LearnerID
}

/// The device's SQLite store: the event log, the outbox of events a server has not acknowledged,
/// the sync cursor, aliases, the hybrid logical clock and the materialized progress.
///
/// Recording an event is one transaction: the event, its place in the outbox, the clock and its
/// effect on progress commit together or not at all. Reading progress reads one row; it never
/// replays the log.
///
/// ```swift
/// let store = try DeviceStore(path: "progress.sqlite", catalog: catalog)
/// try await store.record(.lessonCompleted(lesson: "keep-secure"), in: "customer-privacy")
/// let progress = try await store.progress(in: "customer-privacy")
/// ```
public final class DeviceStore: Sendable {
    let writer: any DatabaseWriter
    package let clock: any WallClock
    let catalogs: Locked<Catalogs>
    /// The bearer token and guest secret, kept apart from the event log.
    let secrets: any SecretStore
    /// Syncs, sign-ins and sign-outs through this store take turns (see ``AsyncLock``).
    package let syncLock = AsyncLock()
    /// What the last record left for the next (``RecordMemo``); only records use it.
    let recordMemo = Locked<RecordMemo?>(nil)

    /// The app's bundled catalog, the versions it bundled before (kept after an update), and
    /// every version a server served, merged once per change (the catalog is read on every
    /// record). Where a server and the app hold the same version of a course with different
    /// content, the server's copy grades (so the device agrees with the server and every other
    /// device) and the difference is reported in ``conflicts``.
    struct Catalogs: Sendable {
        var bundled: Catalog { didSet { merge() } }
        var server: Catalog? { didSet { merge() } }
        var archived: Catalog? { didSet { merge() } }
        private(set) var merged: Catalog
        private(set) var conflicts: [CatalogConflict] = []
        /// Counts merges: a ``RecordMemo`` made with another catalog is not reused.
        private(set) var generation = 0

        init(bundled: Catalog) {
            self.bundled = bundled
            merged = bundled
        }

        private mutating func merge() {
            let app = archived.map { bundled.merging($0) } ?? bundled
            merged = server.map { $0.merging(app) } ?? app
            conflicts = server.map { CatalogConflict.between(server: $0, app: app) } ?? []
            generation += 1
        }
    }

    /// The courses this store validates and grades events against: the app's bundled catalog
    /// merged with the versions fetched from the server (see ``storeServerCatalog(_:)``).
    public var catalog: Catalog { catalogs.withLock { $0.merged } }

    /// Opens (or creates) a store file in WAL mode and runs pending migrations.
    ///
    /// - Parameters:
    ///   - path: the SQLite file; its folder must exist.
    ///   - catalog: the app's bundled courses, the offline default; versions fetched from the
    ///     server are stored and merged in.
    ///   - clock: wall time for the hybrid logical clock.
    ///   - secrets: where the token and the guest secret are kept (default: the file
    ///     `<path>.secrets`, mode 0600; an iOS app passes a Keychain-backed store).
    /// - Throws: ``StorageError`` with code `database` when the file cannot be opened or migrated.
    public convenience init(
        path: String, catalog: Catalog, clock: any WallClock = SystemWallClock(), secrets: (any SecretStore)? = nil
    ) throws {
        let writer: DatabasePool
        let store: any SecretStore
        do {
            try PrivateFile.prepare(path)
            writer = try DatabasePool(path: path, configuration: Self.configuration)
            store = try secrets ?? FileSecretStore(path: path + ".secrets")
        } catch let error where DiskFailure(error, at: path) == .full {
            throw StorageError(.diskFull, "cannot open the device store: the device's disk is full; free some space and try again", cause: error)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw StorageError(.busy, "cannot open the device store: another process holds it; try again when it is done", cause: error)
        } catch let error as PrivateFile.NotADatabase {
            throw StorageError(.database, "cannot open the device store: \(error)", cause: error)
        } catch {
            throw StorageError(.database, "cannot open the device store: \(error)", cause: error)
        }
        try self.init(writer: writer, catalog: catalog, clock: clock, secrets: store)
    }

    /// A store in memory, for tests and previews; it is gone when released.
    public static func inMemory(catalog: Catalog, clock: any WallClock = SystemWallClock()) throws -> DeviceStore {
        do {
            return try DeviceStore(writer: DatabaseQueue(configuration: configuration), catalog: catalog, clock: clock, secrets: MemorySecretStore())
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.database, "cannot open an in-memory store", cause: error)
        }
    }

    /// An in-memory copy of this store as it is now: what a backup, or a phone cloned from this
    /// one, holds. Restoring it later is how a device comes back with an old counter.
    package func snapshot(clock: (any WallClock)? = nil) throws -> DeviceStore {
        try database {
            let copy = try DatabaseQueue(configuration: Self.configuration)
            try writer.backup(to: copy)
            let bundled = catalogs.withLock { $0.bundled }
            // A backup or a clone holds the same credentials: it proves the same guest.
            let copiedSecrets = MemorySecretStore()
            for name in SecretName.allCases { try copiedSecrets.setSecret(secrets.secret(name), for: name) }
            return try DeviceStore(writer: copy, catalog: bundled, clock: clock ?? self.clock, secrets: copiedSecrets)
        }
    }

    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        return configuration
    }

    private init(writer: any DatabaseWriter, catalog: Catalog, clock: any WallClock, secrets: any SecretStore) throws {
        self.writer = writer
        self.clock = clock
        self.secrets = secrets
        catalogs = Locked(Catalogs(bundled: catalog))
        try database {
            try DeviceSchema.migrator(movingCredentialsTo: secrets).migrate(writer)
            let (server, archived) = try writer.read { db in (try Self.storedServerCatalog(db), try Self.storedBundledCatalog(db)) }
            catalogs.withLock { state in
                state.server = server
                state.archived = archived
            }
            try writer.write { db in
                if try Row.fetchOne(db, sql: "SELECT 1 FROM device") == nil {
                    try db.execute(
                        sql: "INSERT INTO device (id, replica, learner, nextSeq, hlc) VALUES (1, ?, ?, 1, 0)",
                        arguments: [ReplicaID.random().rawValue, LearnerID.newGuest().rawValue])
                    // The guest's secret is made with the guest: a clone of this device proves
                    // the same guest.
                    try secrets.setSecret(Self.newSecret(), for: .deviceSecret)
                    try secrets.setSecret(nil, for: .token)
                }
                try Self.archiveBundled(catalog, db)
                // Progress is a function of the events and the catalog on every path: a store
                // opened with another catalog than its rows were built under rebuilds them.
                try Self.rebuildIfCatalogChanged(catalogs.withLock { $0.merged }, db)
            }
        }
    }

    /// 256 random bits that prove this device's guest to the server.
    static func newSecret() -> String { IdentifierRules.randomToken() + IdentifierRules.randomToken() }

    /// This device's replica and current learner.
    package func identity() async throws -> DeviceIdentity {
        try await read { db in try Self.identity(db) }
    }

    static func identity(_ db: Database) throws -> DeviceIdentity {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT replica, learner FROM device WHERE id = 1")) else {
            throw StorageError(.signedOut, "the store has no device identity")
        }
        return DeviceIdentity(replica: ReplicaID(unchecked: row["replica"]), learner: LearnerID(unchecked: row["learner"]))
    }

    /// The learner whose progress this device shows: the current learner's account if the
    /// current learner is a guest attached to one, else the current learner.
    static func currentRoot(_ db: Database) throws -> LearnerID {
        let learner = try identity(db).learner
        let account = try String.fetchOne(db.cachedStatement(sql: "SELECT account FROM alias WHERE guest = ?"), arguments: [learner.rawValue])
        return account.map { LearnerID(unchecked: $0) } ?? learner
    }

    // MARK: - Database access with errors mapped at one place

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await database { try await writer.read(body) }
    }

    /// A read on the calling thread, for the short reads of a sync round: the async form's two
    /// thread hops cost about 110 µs on a 2-core Linux machine, twice the read itself. A file
    /// store's readers never wait for its writer (WAL), so this blocks only for the read (an
    /// in-memory store's reads wait for its writes).
    func readNow<T>(_ body: (Database) throws -> T) throws -> T {
        try database { try writer.read(body) }
    }

    /// A write in an immediate transaction (``Database/immediateTransaction(_:)``: GRDB's own
    /// transaction wrapper cost about 20 µs per write, a fifth of recording one event).
    /// The body sees the whole outbox in its table (``Outbox/withTable(_:_:)``).
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await writeSeries { db in try db.immediateTransaction { try Outbox.withTable(db) { try body(db) } } }
    }

    /// A write on the calling thread (GRDB's synchronous access), in the same kind of
    /// transaction as ``write(_:)``.
    func writeNow<T>(_ body: (Database) throws -> T) throws -> T {
        try writeSeriesNow { db in try db.immediateTransaction { try Outbox.withTable(db) { try body(db) } } }
    }

    /// A write whose body runs its own transactions, for work that must follow a commit on the
    /// writer (a record leaves its ``RecordMemo`` once it committed).
    func writeSeries<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await database { try await writer.writeWithoutTransaction(body) }
    }

    /// ``writeSeries(_:)`` on the calling thread.
    func writeSeriesNow<T>(_ body: (Database) throws -> T) throws -> T {
        try database { try writer.writeWithoutTransaction(body) }
    }

    /// A database error as the store reports it; a full or failing disk is named as such. SQLite
    /// rolls back the transaction either way, so nothing the failed call wrote is kept.
    static func storageError(_ error: any Error) -> StorageError {
        switch DiskFailure(error) {
        case .full?:
            StorageError(
                .diskFull, "the device's disk is full: the step that failed stored nothing (what the call finished before it is kept); free some space and try again",
                cause: error)
        case .ioError?:
            StorageError(
                .database, "the device's disk failed to read or write (I/O error): the step that failed stored nothing (what the call finished before it is kept)",
                cause: error)
        default:
            StorageError(.database, "the device database failed", cause: error)
        }
    }

    func database<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StorageError {
            throw error
        } catch let error as ModelError {
            throw StorageError(.invalidEvent, error.message, cause: error)
        } catch {
            throw Self.storageError(error)
        }
    }

    func database<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StorageError {
            throw error
        } catch let error as ModelError {
            throw StorageError(.invalidEvent, error.message, cause: error)
        } catch {
            throw Self.storageError(error)
        }
    }
}
