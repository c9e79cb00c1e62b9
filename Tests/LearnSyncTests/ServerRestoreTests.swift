import Foundation
import GRDB
import LearnSync
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTesting
import Testing

/// A server that goes back in time: its database restored from a backup taken before a phone's
/// last sync. Every sync answer names the highest counter the server holds for the requesting
/// replica (`lastSeq`), so the phone sees that events the server acknowledged are gone, sends
/// them again and pulls the feed from the start; and a device's cursor names the mark of the
/// feed row it points at (`cursorMark`), so a device whose cursor points into a forgotten part
/// of the feed pulls it again and offers every event it holds, other devices' too.
@Suite struct ServerRestoreTests {
    @Test func aPhoneSendsAgainWhatARestoredServerForgot() async throws {
        let catalog = try SampleCatalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("server.sqlite").path
        let backup = folder.appendingPathComponent("backup.sqlite").path

        var server = try await EmbeddedServer.start(databasePath: path, catalog: catalog, passwordCost: 4)
        let phone = LearnSyncClient(
            store: try DeviceStore.inMemory(catalog: catalog), transport: URLSessionTransport(baseURL: server.url),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        try await phone.signUp(username: "restored-server", password: "a long password")
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        try await phone.sync()
        // The operator's backup, then the phone's last work, acknowledged.
        try DatabaseQueue(path: path).backup(to: DatabaseQueue(path: backup))
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: SampleCatalog.courseID)
        try await phone.record(.quizAttempt(quiz: "privacy-quiz", answers: catalog[SampleCatalog.courseID]!.quizzes[0].questions.map(\.answer)), in: SampleCatalog.courseID)
        try await phone.sync()
        #expect(try await phone.pendingCount() == 0)

        // The server is restored from the backup.
        await server.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        server = try await EmbeddedServer.start(databasePath: path, catalog: catalog, passwordCost: 4)
        let phoneAgain = LearnSyncClient(store: phone.store, transport: URLSessionTransport(baseURL: server.url))
        try await phoneAgain.sync()
        try await phoneAgain.sync()

        let held = try await phoneAgain.serverExport().events
        #expect(held.count == 3, "the server holds \(held.count) of the phone's 3 events")
        let graded = try await phoneAgain.serverProgress().courses.first?.progress
        #expect(graded == (try await phoneAgain.progress(in: SampleCatalog.courseID)))
        await server.stop()
    }

    @Test func aLostPhonesEventsComeBackFromTheTabletThatPulledThem() async throws {
        let catalog = try SampleCatalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("server.sqlite").path
        let backup = folder.appendingPathComponent("backup.sqlite").path
        let course = SampleCatalog.courseID

        var server = try await EmbeddedServer.start(databasePath: path, catalog: catalog, passwordCost: 4)
        func device(_ store: DeviceStore) -> LearnSyncClient {
            LearnSyncClient(store: store, transport: URLSessionTransport(baseURL: server.url), retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        }
        let phone = device(try DeviceStore.inMemory(catalog: catalog))
        try await phone.signUp(username: "lost-phone", password: "a long password")
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: course)
        try await phone.sync()
        let tabletStore = try DeviceStore.inMemory(catalog: catalog)
        try await device(tabletStore).signIn(username: "lost-phone", password: "a long password")
        try DatabaseQueue(path: path).backup(to: DatabaseQueue(path: backup))
        // After the backup: the phone's last work reaches the tablet, then the phone is lost.
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: course)
        try await phone.record(.quizAttempt(quiz: "privacy-quiz", answers: catalog[course]!.quizzes[0].questions.map(\.answer)), in: course)
        try await phone.sync()
        try await device(tabletStore).sync()
        let expected = try await phone.progress(in: course)
        #expect(try await device(tabletStore).progress(in: course) == expected)

        await server.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        server = try await EmbeddedServer.start(databasePath: path, catalog: catalog, passwordCost: 4)

        // A laptop signs in to the restored server and records: its event takes a position the
        // tablet's cursor already passed.
        let laptop = device(try DeviceStore.inMemory(catalog: catalog))
        try await laptop.signIn(username: "lost-phone", password: "a long password")
        try await laptop.record(.lessonStarted(lesson: "collect-only-necessary"), in: course)
        try await laptop.record(.lessonCompleted(lesson: "collect-only-necessary"), in: course)
        try await laptop.sync()

        let tablet = device(tabletStore)
        for _ in 0..<2 {
            try await tablet.sync()
            try await laptop.sync()
        }
        let tabletProgress = try await tablet.progress(in: course)
        #expect(tabletProgress.lessons["collect-only-necessary"]?.status == .completed, "the tablet pulled the laptop's lesson")
        #expect(tabletProgress.lessons["limit-access"]?.status == .completed)
        #expect(try await laptop.progress(in: course) == tabletProgress, "the laptop got the lost phone's events from the tablet")
        let held = try await tablet.serverExport().events
        #expect(held.count == 5, "the server holds \(held.count) of the learner's 5 events")
        #expect(try await tablet.serverProgress().courses.first?.progress == tabletProgress)
        #expect(try await tablet.pendingCount() == 0)
        await server.stop()
    }

    /// The account, the tablet's session and the phone's guest were all made after the backup:
    /// the restored server knows none of them. Each device keeps its events, is told its token
    /// is refused, and brings everything into the account made again under the same username.
    @Test func anAccountMadeAfterTheBackupComesBackWhenTheLearnerSignsUpAgain() async throws {
        let catalog = try SampleCatalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("server.sqlite").path
        let backup = folder.appendingPathComponent("backup.sqlite").path
        let course = SampleCatalog.courseID

        var server = try await EmbeddedServer.start(databasePath: path, catalog: catalog, passwordCost: 4)
        func device(_ store: DeviceStore) -> LearnSyncClient {
            LearnSyncClient(store: store, transport: URLSessionTransport(baseURL: server.url), retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        }
        let phoneStore = try DeviceStore.inMemory(catalog: catalog), tabletStore = try DeviceStore.inMemory(catalog: catalog)
        try DatabaseQueue(path: path).backup(to: DatabaseQueue(path: backup))
        try await device(phoneStore).record(.lessonCompleted(lesson: "keep-secure"), in: course)
        try await device(phoneStore).sync()
        let first = try await device(phoneStore).signUp(username: "made-after-backup", password: "a long password")
        try await device(phoneStore).record(.lessonCompleted(lesson: "limit-access"), in: course)
        try await device(phoneStore).sync()
        try await device(tabletStore).signIn(username: "made-after-backup", password: "a long password")
        try await device(tabletStore).record(.lessonCompleted(lesson: "dispose-properly"), in: course)
        try await device(tabletStore).sync()
        try await device(phoneStore).sync()
        let expected = try await device(phoneStore).progress(in: course)
        #expect(try await device(tabletStore).progress(in: course) == expected)

        await server.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        server = try await EmbeddedServer.start(databasePath: path, catalog: catalog, passwordCost: 4)

        let phone = device(phoneStore), tablet = device(tabletStore)
        await #expect(throws: SyncError.self, "the restored server refuses the phone's token") { try await phone.sync() }
        await #expect(throws: SyncError.self, "the account is unknown") { try await phone.signIn(username: "made-after-backup", password: "a long password") }
        let again = try await phone.signUp(username: "made-after-backup", password: "a long password")
        #expect(again != first)
        #expect(try await phone.progress(in: course) == expected, "nothing changed on the phone")
        try await tablet.signIn(username: "made-after-backup", password: "a long password")
        for _ in 0..<2 {
            try await phone.sync()
            try await tablet.sync()
        }
        #expect(try await tablet.progress(in: course) == expected)
        #expect(try await phone.progress(in: course) == expected)
        let phoneLearner = try await phone.identity().learner, tabletLearner = try await tablet.identity().learner
        #expect(phoneLearner == again && tabletLearner == again)
        let held = try await tablet.serverExport().events
        #expect(held.count == 3, "the server holds \(held.count) of the learner's 3 events")
        #expect(try await tablet.serverProgress().courses.first?.progress == expected)
        let pending = (try await phone.pendingCount(), try await tablet.pendingCount())
        #expect(pending == (0, 0))
        let rejected = (try await phone.rejectedEvents().count, try await tablet.rejectedEvents().count)
        #expect(rejected == (0, 0))
        await server.stop()
    }

    /// An account erased after the backup stays erased after the restore: the server erases it
    /// again from its erasure journal at start, and its devices are told `learner-erased`.
    @Test func anErasureAfterTheBackupIsNotUndoneByTheRestore() async throws {
        let catalog = try SampleCatalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("server.sqlite").path
        let server = try await RestorableServer.start(databasePath: path, catalog: catalog, passwordCost: 4)
        func device() throws -> LearnSyncClient {
            LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog), transport: URLSessionTransport(baseURL: server.url))
        }
        let phone = try device(), tablet = try device(), other = try device()
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        let erased = try await phone.signUp(username: "erased-after-backup", password: "a long password")
        try await tablet.signIn(username: "erased-after-backup", password: "a long password")
        let guest = try await other.identity().learner
        try await other.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        try await other.sync()
        let backup = try server.backup()
        // After the backup: the account is erased, and the other guest attached to it and erased with it.
        try await other.signIn(username: "erased-after-backup", password: "a long password")
        try await phone.deleteAccount(password: "a long password")
        try await server.restore(backup, catalog: catalog)

        // The tablet's token is from before the backup: the restored server would have taken it.
        await #expect { try await tablet.sync() } throws: { ($0 as? SyncError)?.code == .learnerErased }
        #expect(try await tablet.progress(in: SampleCatalog.courseID).eventCount == 0, "the tablet wiped the erased account")
        // The account's username is free again, and the guest erased with it stays erased.
        await #expect { try await tablet.signIn(username: "erased-after-backup", password: "a long password") } throws: {
            ($0 as? SyncError)?.code == .unauthorized
        }
        // The other device signed in after the backup: its token is unknown, and signing up
        // again names the erased account, which stays erased.
        await #expect { try await other.sync() } throws: { ($0 as? SyncError)?.code == .unauthorized }
        await #expect { try await other.signUp(username: "someone-new", password: "a long password") } throws: {
            ($0 as? SyncError)?.code == .learnerErased
        }
        let after = try await other.identity().learner
        let left = try await other.progress(in: SampleCatalog.courseID).eventCount
        #expect(after != guest && after.isGuest && left == 0)
        #expect(try await phone.identity().learner != erased)
        await server.stop()
    }

    /// A guest attached after the backup whose device then signed out (its secret is gone): the
    /// tablet holds the guest's events and the server's attestation of the attachment, and the
    /// restored server attaches the guest again from it.
    @Test func anAttestedAttachmentComesBackWithoutTheGuestsSecret() async throws {
        let catalog = try SampleCatalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await RestorableServer.start(databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4)
        func device() throws -> LearnSyncClient {
            LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog), transport: URLSessionTransport(baseURL: server.url))
        }
        let phone = try device(), tablet = try device()
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: SampleCatalog.courseID)
        try await phone.sync()
        let backup = try server.backup()
        try await phone.signUp(username: "attested", password: "a long password")
        try await tablet.signIn(username: "attested", password: "a long password")
        let expected = try await tablet.progress(in: SampleCatalog.courseID)
        #expect(expected.lessons["limit-access"]?.status == .completed)
        try await phone.signOut()
        try await server.restore(backup, catalog: catalog)

        await #expect { try await tablet.sync() } throws: { ($0 as? SyncError)?.code == .unauthorized }
        try await tablet.signUp(username: "attested", password: "a long password")
        try await tablet.sync()
        let rejected = try await tablet.rejectedEvents().map(\.code)
        #expect(rejected.isEmpty, "the guest's events were refused: \(rejected)")
        #expect(try await tablet.pendingCount() == 0)
        #expect(try await tablet.serverExport().events.count == 2)
        #expect(try await tablet.serverProgress().courses.first?.progress == (try await tablet.progress(in: SampleCatalog.courseID)))
        await server.stop()
    }
}
