import Foundation
import HummingbirdTesting
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting
import Testing

/// The holes black-box review found, each shown closed through the real router: skewed clocks,
/// catalogs of different versions, restored and cloned phones, retakes meeting other devices'
/// history, and sign-in edge cases. Nothing a learner recorded is lost.
@Suite struct RealWorldTests {
    let world: World

    init() throws { world = try World() }

    /// Every event id a device holds for the course.
    func ids(_ device: LearnSyncClient) async throws -> Set<EventID> {
        Set(try await device.store.events(in: world.course.id).map(\.id))
    }

    @Test(arguments: [Int64(600_000), -600_000, 31_536_000_000, -31_536_000_000])
    func aDeviceClockOffEitherWayLosesNothingAndIsCorrected(skew: Int64) async throws {
        let world = world
        try await world.run { client in
            let phoneClock = ManualWallClock(millisecondsSince1970: world.clock.millisecondsSince1970() + skew)
            let phone = try world.device(client, clock: phoneClock)
            try await phone.complete(world.course.lessons.prefix(2), in: world.course)
            try await phone.sync()
            #expect(try await phone.rejectedEvents().isEmpty)
            #expect(try await phone.pendingCount() == 0)
            // The phone measured the server's time and corrects for it from now on.
            #expect(abs(try await phone.store.clockOffset() + skew) <= 1)
            let next = try await phone.record(.lessonStarted(lesson: world.course.lessons[3].id), in: world.course.id)
            #expect(abs(next.timestamp.physicalMilliseconds - world.clock.millisecondsSince1970()) <= HybridLogicalClock.maxAheadMilliseconds)
            // What it recorded ahead of the server was stored at the server's time: it cannot win
            // last-writer-wins merges for a year.
            for event in try await phone.store.events(in: world.course.id) {
                #expect(event.timestamp.physicalMilliseconds <= world.clock.millisecondsSince1970() + HybridLogicalClock.maxAheadMilliseconds)
            }
            try await phone.signUp(username: "skewed", password: "a long password")
            let tablet = try world.device(client)
            try await tablet.signIn(username: "skewed", password: "a long password")
            #expect(try await ids(tablet) == ids(phone))
        }
    }

    @Test func aServerClockBehindRefusesNothing() async throws {
        let world = world
        try await world.run { client in
            let phone = try world.device(client, clock: ManualWallClock(millisecondsSince1970: world.clock.millisecondsSince1970() + 600_000))
            try await phone.complete(world.course.lessons.prefix(3), in: world.course)
            let report = try await phone.sync()
            #expect(report.rejected == 0 && report.pushed == 3)
        }
    }

    @Test func eventsOfANewerAppCatalogWaitForTheServerAndCountEverywhereAfter() async throws {
        let world = world
        let versions = try CatalogVersions.make(from: world.catalog, count: 2)
        try await world.run { client in
            let newApp = try world.device(client, catalog: versions[1])
            let v2 = versions[1][world.course.id]!
            let quiz = v2.quizzes[0]
            try await newApp.record(.lessonCompleted(lesson: "added-lesson-1"), in: world.course.id)
            try await newApp.record(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer)), in: world.course.id)
            try await newApp.sync()
            #expect(try await newApp.rejectedEvents().map(\.code).sorted() == ["unknown-item", "unknown-version"])
            let before = try await newApp.progress(in: world.course.id)

            try await world.service.publish(versions[1])
            let report = try await newApp.sync()
            #expect(report.pushed == 2)
            #expect(try await newApp.rejectedEvents().isEmpty)
            #expect(try await newApp.progress(in: world.course.id) == before, "nothing moved on the device")

            // An old app pulls them, learns the server's catalog, and counts them too.
            let oldApp = try world.device(client)
            try await newApp.signUp(username: "versions", password: "a long password")
            try await oldApp.signIn(username: "versions", password: "a long password")
            #expect(try await oldApp.progress(in: world.course.id) == newApp.progress(in: world.course.id))
            #expect(try await oldApp.progress(in: world.course.id).quizzes[quiz.id]?.passed == true)
            // The server grades the same.
            let graded = try await newApp.serverProgress()
            #expect(graded.courses.first?.progress == (try await newApp.progress(in: world.course.id)))
        }
    }

    @Test func aPhoneRestoredFromAnOlderBackupMovesItsNewWorkToANewReplica() async throws {
        let world = world
        try await world.run { client in
            let phone = try world.device(client)
            try await phone.complete(world.course.lessons.prefix(2), in: world.course)
            try await phone.sync()
            let backup = try phone.store.snapshot()
            try await phone.complete(world.course.lessons[2..<5], in: world.course)
            try await phone.sync()
            let lostAfterBackup = try await ids(phone)

            let restored = world.device(TestClientTransport(client), store: backup)
            try await restored.record(.timeSpent(lesson: world.course.lessons[0].id, seconds: 40), in: world.course.id)
            try await restored.record(.lessonCompleted(lesson: world.course.lessons[6].id), in: world.course.id)
            let report = try await restored.sync()
            #expect(report.moved >= 1)
            #expect(try await restored.identity().replica != phone.identity().replica)
            try await phone.sync()
            let all = try await ids(restored)
            #expect(all.isSuperset(of: lostAfterBackup), "the restored phone gets back what it recorded after the backup")
            #expect(all.count == lostAfterBackup.count + 2)
            #expect(try await ids(phone) == all)
            #expect(try await restored.progress(in: world.course.id) == phone.progress(in: world.course.id))
            #expect(try await restored.progress(in: world.course.id).secondsSpent == 40)
        }
    }

    @Test func aClonedPhoneAndItsOriginalBothKeepTheirWork() async throws {
        let world = world
        try await world.run { client in
            let original = try world.device(client)
            try await original.complete(world.course.lessons.prefix(1), in: world.course)
            let clone = world.device(TestClientTransport(client), store: try original.store.snapshot())
            try await original.complete(world.course.lessons[1..<3], in: world.course)
            try await clone.complete(world.course.lessons[3..<5], in: world.course)
            // A reset on the clone that saw its own events only.
            try await clone.record(.courseReset(), in: world.course.id)
            try await clone.record(.lessonStarted(lesson: world.course.lessons[7].id), in: world.course.id)
            try await original.sync()
            try await clone.sync()
            try await original.sync()
            #expect(try await ids(original) == ids(clone))
            #expect(try await ids(original).count == 7)
            let progress = try await original.progress(in: world.course.id)
            #expect(progress == (try await clone.progress(in: world.course.id)))
            // The clone's reset hid what the clone had seen, never the original's later work.
            #expect(progress.status(of: world.course.lessons[1].id) == .completed)
            #expect(progress.status(of: world.course.lessons[3].id) == .notStarted)
        }
    }

    @Test func aGuestsRetakeNeverWipesTheAccountsCertificateOrHistory() async throws {
        let world = world
        try await world.run { client in
            let tablet = try world.device(client)
            try await tablet.signUp(username: "certified", password: "a long password")
            try await tablet.complete(world.course.lessons, in: world.course)
            try await tablet.passQuiz(in: world.course)
            try await tablet.sync()
            #expect(try await tablet.certificate(in: world.course.id).isEarned)

            let phone = try world.device(client)
            try await phone.complete(world.course.lessons.prefix(2), in: world.course)
            try await phone.record(.courseReset(), in: world.course.id)
            try await phone.record(.lessonStarted(lesson: world.course.lessons[0].id), in: world.course.id)
            try await phone.signIn(username: "certified", password: "a long password")
            try await tablet.sync()
            for device in [phone, tablet] {
                let progress = try await device.progress(in: world.course.id)
                #expect(try await device.certificate(in: world.course.id).isEarned)
                #expect(progress.quizzes[world.course.quizzes[0].id]?.passed == true)
                #expect(progress.status(of: world.course.lessons[8].id) == .completed)
            }
        }
    }

    @Test func anAccountsRetakeNeverHidesAGuestsUnseenOfflineWork() async throws {
        let world = world
        try await world.run { client in
            let tablet = try world.device(client)
            try await tablet.signUp(username: "retaker", password: "a long password")
            try await tablet.complete(world.course.lessons.prefix(3), in: world.course)
            try await tablet.sync()
            let phone = try world.device(client)
            // Offline on a clock a day behind: recorded after the tablet's retake in real time.
            try await phone.complete(world.course.lessons[4..<6], in: world.course)
            try await tablet.record(.courseReset(), in: world.course.id)
            try await tablet.sync()
            try await phone.signIn(username: "retaker", password: "a long password")
            try await tablet.sync()
            for device in [phone, tablet] {
                let progress = try await device.progress(in: world.course.id)
                #expect(progress.status(of: world.course.lessons[0].id) == .notStarted)
                #expect(progress.status(of: world.course.lessons[4].id) == .completed)
                #expect(progress.status(of: world.course.lessons[5].id) == .completed)
            }
        }
    }

    @Test func signingOutAGuestWithProgressNeedsForce() async throws {
        let world = world
        try await world.run { client in
            let phone = try world.device(client)
            try await phone.complete(world.course.lessons.prefix(1), in: world.course)
            try await phone.sync()
            await #expect { try await phone.signOut() } throws: { ($0 as? SyncError)?.code == .guestNotClaimed }
            let kept = try await ids(phone)
            #expect(!kept.isEmpty, "nothing removed")
            try await phone.signOut(force: true)
            #expect(try await ids(phone).isEmpty)
        }
    }

    @Test func aLostSignInAnswerThenAnotherAccountEndsInAClearError() async throws {
        let world = world
        try await world.run { client in
            let other = try world.device(client)
            try await other.signUp(username: "second", password: "a long password")
            // The sign-up reaches the server every time, but no answer comes back.
            let phone = try world.device(AnswersLost(inner: TestClientTransport(client), path: "/v1/accounts"))
            try await phone.complete(world.course.lessons.prefix(1), in: world.course)
            try await phone.sync()
            await #expect { try await phone.signUp(username: "first", password: "a long password") } throws: {
                ($0 as? SyncError)?.code == .unreachable
            }
            await #expect { try await phone.signIn(username: "second", password: "a long password") } throws: {
                ($0 as? SyncError)?.code == .guestAttachedElsewhere
            }
            await #expect { try await phone.sync() } throws: { ($0 as? SyncError)?.code == .guestAttachedElsewhere }
            // The way out works: sign in to the account the guest went to.
            try await phone.signIn(username: "first", password: "a long password")
            #expect(try await phone.pendingCount() == 0)
        }
    }
}

/// Delivers every request but loses the answers to one path.
struct AnswersLost: SyncTransport {
    let inner: any SyncTransport
    let path: String

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let response = try await inner.send(request)
        if request.path == path { throw URLError(.timedOut) }
        return response
    }
}
