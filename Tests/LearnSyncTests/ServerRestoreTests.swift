import Foundation
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
    /// A server on a SQLite file in a temporary folder that the test backs up and restores
    /// (``RestorableServer``: the same address throughout), and devices of it.
    struct Restorable {
        let catalog: Catalog
        let folder: URL
        let server: RestorableServer

        static func start() async throws -> Restorable {
            let catalog = try SampleCatalog.load()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let server = try await RestorableServer.start(
                databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4)
            return Restorable(catalog: catalog, folder: folder, server: server)
        }

        /// A new device of the server.
        func device() throws -> LearnSyncClient {
            LearnSyncClient(
                store: try DeviceStore.inMemory(catalog: catalog), transport: URLSessionTransport(baseURL: server.url),
                retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        }

        /// The server restored from `backup`, as an operator does.
        func restore(_ backup: Int) async throws { try await server.restore(backup, catalog: catalog) }

        func finish() async {
            await server.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    var course: CourseID { SampleCatalog.courseID }

    @Test func aPhoneSendsAgainWhatARestoredServerForgot() async throws {
        let world = try await Restorable.start()
        let phone = try world.device()
        try await phone.signUp(username: "restored-server", password: "a long password")
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: course)
        try await phone.sync()
        // The operator's backup, then the phone's last work, acknowledged.
        let backup = try world.server.backup()
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: course)
        try await phone.record(.quizAttempt(quiz: "privacy-quiz", answers: world.catalog[course]!.quizzes[0].questions.map(\.answer)), in: course)
        try await phone.sync()
        #expect(try await phone.pendingCount() == 0)

        try await world.restore(backup)
        try await phone.sync()
        try await phone.sync()

        let held = try await phone.serverExport().events
        #expect(held.count == 3, "the server holds \(held.count) of the phone's 3 events")
        let graded = try await phone.serverProgress().courses.first?.progress
        #expect(graded == (try await phone.progress(in: course)))
        await world.finish()
    }

    @Test func aLostPhonesEventsComeBackFromTheTabletThatPulledThem() async throws {
        let world = try await Restorable.start()
        let phone = try world.device(), tablet = try world.device()
        try await phone.signUp(username: "lost-phone", password: "a long password")
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: course)
        try await phone.sync()
        try await tablet.signIn(username: "lost-phone", password: "a long password")
        let backup = try world.server.backup()
        // After the backup: the phone's last work reaches the tablet, then the phone is lost.
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: course)
        try await phone.record(.quizAttempt(quiz: "privacy-quiz", answers: world.catalog[course]!.quizzes[0].questions.map(\.answer)), in: course)
        try await phone.sync()
        try await tablet.sync()
        #expect(try await tablet.progress(in: course) == (try await phone.progress(in: course)))
        try await world.restore(backup)

        // A laptop signs in to the restored server and records: its event takes a position the
        // tablet's cursor already passed.
        let laptop = try world.device()
        try await laptop.signIn(username: "lost-phone", password: "a long password")
        try await laptop.record(.lessonStarted(lesson: "collect-only-necessary"), in: course)
        try await laptop.record(.lessonCompleted(lesson: "collect-only-necessary"), in: course)
        try await laptop.sync()
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
        await world.finish()
    }

    /// The account, the tablet's session and the phone's guest were all made after the backup:
    /// the restored server knows none of them. Each device keeps its events, is told its token
    /// is refused, and brings everything into the account made again under the same username.
    @Test func anAccountMadeAfterTheBackupComesBackWhenTheLearnerSignsUpAgain() async throws {
        let world = try await Restorable.start()
        let phone = try world.device(), tablet = try world.device()
        let backup = try world.server.backup()
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: course)
        try await phone.sync()
        let first = try await phone.signUp(username: "made-after-backup", password: "a long password")
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: course)
        try await phone.sync()
        try await tablet.signIn(username: "made-after-backup", password: "a long password")
        try await tablet.record(.lessonCompleted(lesson: "dispose-properly"), in: course)
        try await tablet.sync()
        try await phone.sync()
        let expected = try await phone.progress(in: course)
        #expect(try await tablet.progress(in: course) == expected)
        try await world.restore(backup)

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
        await world.finish()
    }

    /// An account erased after the backup stays erased after the restore: the server erases it
    /// again from its erasure journal at start, and its devices are told `learner-erased`.
    @Test func anErasureAfterTheBackupIsNotUndoneByTheRestore() async throws {
        let world = try await Restorable.start()
        let phone = try world.device(), tablet = try world.device(), other = try world.device()
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: course)
        let erased = try await phone.signUp(username: "erased-after-backup", password: "a long password")
        try await tablet.signIn(username: "erased-after-backup", password: "a long password")
        let guest = try await other.identity().learner
        try await other.record(.lessonStarted(lesson: "keep-secure"), in: course)
        try await other.sync()
        let backup = try world.server.backup()
        // After the backup: the account is erased, and the other guest attached to it and erased with it.
        try await other.signIn(username: "erased-after-backup", password: "a long password")
        try await phone.deleteAccount(password: "a long password")
        try await world.restore(backup)

        // The tablet's token is from before the backup: the restored server would have taken it.
        await #expect { try await tablet.sync() } throws: { ($0 as? SyncError)?.code == .learnerErased }
        #expect(try await tablet.progress(in: course).eventCount == 0, "the tablet wiped the erased account")
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
        let left = try await other.progress(in: course).eventCount
        #expect(after != guest && after.isGuest && left == 0)
        #expect(try await phone.identity().learner != erased)
        await world.finish()
    }

    /// A guest attached after the backup whose device then signed out (its secret is gone): the
    /// tablet holds the guest's events and the server's attestation of the attachment, and the
    /// restored server attaches the guest again from it.
    @Test func anAttestedAttachmentComesBackWithoutTheGuestsSecret() async throws {
        let world = try await Restorable.start()
        let phone = try world.device(), tablet = try world.device()
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: course)
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: course)
        try await phone.sync()
        let backup = try world.server.backup()
        try await phone.signUp(username: "attested", password: "a long password")
        try await tablet.signIn(username: "attested", password: "a long password")
        let expected = try await tablet.progress(in: course)
        #expect(expected.lessons["limit-access"]?.status == .completed)
        try await phone.signOut()
        try await world.restore(backup)

        await #expect { try await tablet.sync() } throws: { ($0 as? SyncError)?.code == .unauthorized }
        try await tablet.signUp(username: "attested", password: "a long password")
        try await tablet.sync()
        let rejected = try await tablet.rejectedEvents().map(\.code)
        #expect(rejected.isEmpty, "the guest's events were refused: \(rejected)")
        #expect(try await tablet.pendingCount() == 0)
        #expect(try await tablet.serverExport().events.count == 2)
        #expect(try await tablet.serverProgress().courses.first?.progress == (try await tablet.progress(in: course)))
        await world.finish()
    }

    /// A phone gives up its replica id (a clone of it synced first) in the round that
    /// acknowledges its older events, and the server then goes back to before them: from cursor
    /// 0 no mark watches the feed, and answers name the new id's counters only. The phone offers
    /// its old id's events once more after giving it up, so the restored server gets them back.
    @Test func eventsAcknowledgedAsThePhoneGaveUpItsReplicaIdComeBack() async throws {
        let world = try await Restorable.start()
        let phone = try world.device()
        try await phone.signUp(username: "renewed-replica", password: "a long password")
        let backup = try world.server.backup()
        try await phone.record(.lessonCompleted(lesson: "keep-secure"), in: course)
        try await phone.record(.lessonCompleted(lesson: "limit-access"), in: course)
        // The clone syncs the shared events first, then one of its own under the next counter.
        let clone = LearnSyncClient(
            store: try phone.store.snapshot(), transport: URLSessionTransport(baseURL: world.server.url),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        try await clone.sync()
        try await clone.record(.lessonCompleted(lesson: "dispose-properly"), in: course)
        try await clone.sync()
        // The phone's third event collides: it moves to a new replica id, the first two are
        // acknowledged under the old one. Then the clone is lost and the server restored.
        // The network fails right after that round's answer.
        let old = try await phone.identity().replica
        try await phone.record(.lessonCompleted(lesson: "train-staff"), in: course)
        let cut = LearnSyncClient(
            store: phone.store, transport: OneRequestTransport(URLSessionTransport(baseURL: world.server.url)),
            retry: RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(1)))
        await #expect(throws: SyncError.self) { try await cut.sync() }
        #expect(try await phone.identity().replica != old, "the phone took a new replica id")
        try await world.restore(backup)
        try await phone.sync()
        try await phone.sync()

        let held = Set(try await phone.events(in: course).map(\.id))
        let stored = Set(try await phone.serverExport().events.map(\.id))
        #expect(stored == held, "the server holds \(stored.count) of the phone's \(held.count) events")
        #expect(try await phone.serverProgress().courses.first?.progress == (try await phone.progress(in: course)))
        await world.finish()
    }
}

/// Lets one request through, then fails every later one as a dropped network does.
final class OneRequestTransport: SyncTransport {
    let inner: any SyncTransport
    let sent = Locked(0)

    init(_ inner: any SyncTransport) { self.inner = inner }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        guard sent.withLock({ count in count += 1; return count }) == 1 else { throw URLError(.networkConnectionLost) }
        return try await inner.send(request)
    }
}
