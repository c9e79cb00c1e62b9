import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LearnSync
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncStorage
import LearnSyncTesting
import SQLiteFaults
import Testing

/// Full disks and I/O errors, at every write, sync and truncate an operation makes: a
/// fault-injecting SQLite VFS (`SQLiteFaults`) fails the k-th one under a test's folder, either as
/// a disk that stays full from then on or as one `EIO`, with half of the failed write torn into
/// the file. After each failure point: the call failed with a clear error or succeeded; every
/// event it acknowledged is stored; `PRAGMA integrity_check` says ok for every file; and with the
/// disk working again, the same work succeeds and the device and the server agree.
///
/// The suite is serialized: the VFS has one armed fault for the process. Files outside the test's
/// folder pass through untouched, so other suites run beside it.
@Suite(.serialized, .tags(.slow)) struct DiskFaultTests {
    static let password = "a long password"

    /// One failure point's world: a server on a SQLite file and a device on another, both in
    /// `folder`, reached in process.
    struct Place: Sendable {
        let folder: URL
        let catalog: Catalog
        let service: SyncService
        let serverPath: String
        let devicePath: String

        var course: Course { catalog[SampleCatalog.courseID]! }

        static func make() throws -> Place {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let catalog = try SampleCatalog.load()
            let serverPath = folder.appendingPathComponent("server.sqlite").path
            let service = SyncService(store: try SQLiteServerStore(path: serverPath), catalog: catalog, passwordCost: 4)
            return Place(
                folder: folder, catalog: catalog, service: service, serverPath: serverPath,
                devicePath: folder.appendingPathComponent("device.sqlite").path)
        }

        func device(_ client: any TestClientProtocol, path: String? = nil) throws -> LearnSyncClient {
            let store = try path.map { try DeviceStore(path: $0, catalog: catalog) } ?? DeviceStore.inMemory(catalog: catalog)
            return LearnSyncClient(
                store: store, transport: TestClientTransport(client), retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1)),
                sleep: { _ in })
        }

        /// `PRAGMA integrity_check` of each SQLite file in the folder, on a new connection.
        func expectIntact(_ label: String) throws {
            for path in [serverPath, devicePath] where FileManager.default.fileExists(atPath: path) {
                let check = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
                #expect(check == ["ok"], "\(label): \(path) is not intact: \(check)")
            }
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    /// The events a call reported done (recorded, or acknowledged by the server) before the
    /// failure: each must be found afterwards.
    final class Acknowledged: Sendable {
        private let ids = Locked<[EventID]>([])
        func add(_ new: some Sequence<EventID>) { ids.withLock { $0.append(contentsOf: new) } }
        var all: Set<EventID> { Set(ids.withLock { $0 }) }
    }

    /// One operation under faults: `prepare` builds what it starts from (no faults), `act` is the
    /// operation, `settle` runs with the disk working again and checks what must hold.
    struct Workload: Sendable {
        typealias Act = @Sendable (Place, LearnSyncClient, Acknowledged) async throws -> Void
        typealias Settle = @Sendable (Place, LearnSyncClient, Acknowledged, any TestClientProtocol, String) async throws -> Void
        let name: String
        /// Whose files fail: the device's or the server's.
        let server: Bool
        let prepare: @Sendable (Place, any TestClientProtocol, Acknowledged) async throws -> LearnSyncClient
        let act: Act
        let settle: Settle
    }

    init() { #expect(sqlite_faults_install() == 0) }

    /// Runs `workload` at every failure point, and expects at least `minimum` of them: the
    /// minimums of the suite's workloads add up to more than 1,000.
    func sweep(_ workload: Workload, minimum: Int) async throws {
        let points = try await everyPoint(of: workload)
        #expect(points >= minimum, "\(workload.name) ran \(points) failure points")
    }

    /// Runs `workload` once with every write under its folder counted, then once per failure
    /// point and fault kind. Returns the number of failure points run.
    private func everyPoint(of workload: Workload) async throws -> Int {
        let count = try await run(workload, failAt: 0, kind: SQLiteFaultDiskFull)
        #expect(count > 0, "\(workload.name) wrote nothing under its folder")
        var points = 0
        for kind in [SQLiteFaultDiskFull, SQLiteFaultIOError] {
            for failAt in 1...count {
                _ = try await run(workload, failAt: failAt, kind: kind)
                points += 1
            }
        }
        print("DiskFaultTests: \(workload.name): \(count) writes, syncs and truncates; \(points) failure points")
        return points
    }

    /// One failure point; returns the operations counted under the folder.
    private func run(_ workload: Workload, failAt: Int64, kind: SQLiteFaultKind) async throws -> Int64 {
        let place = try Place.make()
        defer { place.remove() }
        let label = "\(workload.name), \(kind == SQLiteFaultDiskFull ? "disk full" : "EIO") at \(failAt)"
        return try await Application(router: buildRouter(service: place.service)).test(.router) { client in
            let acknowledged = Acknowledged()
            let device = try await workload.prepare(place, client, acknowledged)
            let folder = workload.server ? place.serverPath : place.devicePath
            sqlite_faults_arm(folder, failAt, kind)
            var failure: (any Error)?
            do { try await workload.act(place, device, acknowledged) } catch { failure = error }
            sqlite_faults_disarm()
            let count = sqlite_faults_count()
            if let failure { Self.expectClear(failure, kind: kind, label: label) }
            if failAt > 0, sqlite_faults_injected() == 0 { #expect(failure == nil, "\(label): failed with no fault: \(String(describing: failure))") }
            try place.expectIntact(label)
            do {
                try await workload.settle(place, device, acknowledged, client, label)
            } catch {
                Issue.record("\(label): settling failed: \(error)\((error as? SyncError)?.cause.map { ", because \($0)" } ?? "")")
            }
            try place.expectIntact(label + ", settled")
            return count
        }
    }

    /// A failure names the disk: the device's `StorageError` (exit 74 in the CLI), or the
    /// server's `storage-failed` answer.
    static func expectClear(_ error: any Error, kind: SQLiteFaultKind, label: String) {
        switch error {
        case let error as StorageError:
            // A full disk fails writes with SQLITE_FULL and syncs with an I/O error, as Linux does.
            let expected: [StorageError.Code] = kind == SQLiteFaultDiskFull ? [.diskFull, .database] : [.database]
            #expect(expected.contains(error.code), "\(label): \(error)")
            #expect(error.message.contains("disk"), "\(label): \(error)")
        case let error as SyncError:
            #expect(error.problem?.knownCode == .storageFailed, "\(label): \(error)")
        default:
            Issue.record("\(label): an unexpected error: \(error)")
        }
    }

    /// Every acknowledged event is on the device; after a sync, every event the device holds is
    /// on the server, and both grade the same.
    static func expectAgreement(_ device: LearnSyncClient, acknowledged: Acknowledged, course: Course, label: String) async throws {
        let before = Set(try await device.events(in: course.id).map(\.id))
        #expect(acknowledged.all.isSubset(of: before), "\(label): \(acknowledged.all.subtracting(before).count) acknowledged events lost")
        _ = try await device.sync()
        #expect(try await device.pendingCount() == 0, "\(label)")
        let held = Set(try await device.events(in: course.id).map(\.id))
        let stored = Set(try await device.serverExport().events.map(\.id))
        #expect(held == stored, "\(label): device \(held.count), server \(stored.count)")
        #expect(try await device.serverProgress().courses.first?.progress == (try await device.progress(in: course.id)), "\(label)")
    }
}
