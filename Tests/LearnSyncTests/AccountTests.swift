import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Testing

@Suite struct AccountTests {
    let world: World
    init() throws { world = try World() }

    @Test func guestProgressAttachesToAnAccountThatAlreadyHasProgress() async throws {
        let world = world, course = world.course
        try await world.run { client in
            let a = try world.device(client), b = try world.device(client)
            // A studies as a guest, offline: every lesson but one, and a failed quiz.
            try await a.complete(course.lessons.dropLast(), in: course)
            try await a.failQuiz(in: course)
            // B signs up and studies: the last lesson and a passed quiz.
            try await b.signUp(username: "thandi", password: "correct horse battery")
            try await b.complete(course.lessons.suffix(1), in: course)
            try await b.passQuiz(in: course)
            try await b.sync()
            #expect(try await b.certificate(in: course.id).isEligible == false)
            // A signs in to B's account: both show the union.
            let account = try await a.signIn(username: "thandi", password: "correct horse battery")
            try await b.sync()
            #expect(try await a.identity().learner == account)
            #expect(try await Convergence.divergentDevices([a, b]) == [])
            let progress = try await b.progress(in: course.id)
            #expect(course.lessons.allSatisfy { progress.status(of: $0.id) == .completed })
            #expect(progress.quizzes[course.quizzes[0].id]?.attempts == 2)
            #expect(try await a.certificate(in: course.id).isEligible)
            #expect(try await b.certificate(in: course.id).isEligible)
        }
    }

    @Test func signUpFromAGuestWithProgressKeepsIt() async throws {
        let world = world, course = world.course
        try await world.run { client in
            let a = try world.device(client)
            try await a.complete(course.lessons.prefix(3), in: course)
            try await a.sync()  // backed up as a guest first
            let guest = try await a.identity().learner
            let account = try await a.signUp(username: "new-learner", password: "a long password")
            #expect(guest != account && !account.isGuest)
            #expect(try await a.progress(in: course.id).eventCount == 3)
            try await a.record(.lessonCompleted(lesson: course.lessons[5].id), in: course.id)
            try await a.sync()
            let other = try world.device(client)
            try await other.signIn(username: "new-learner", password: "a long password")
            #expect(try await other.progress(in: course.id).eventCount == 4)
        }
    }

    @Test func twoGuestDevicesAttachToOneAccount() async throws {
        let world = world, course = world.course
        try await world.run { client in
            let owner = try world.device(client)
            try await owner.signUp(username: "sipho", password: "a long password")
            let phone = try world.device(client), tablet = try world.device(client)
            try await phone.complete(course.lessons.prefix(2), in: course)
            try await tablet.complete(course.lessons.suffix(2), in: course)
            try await tablet.sync()
            try await phone.signIn(username: "sipho", password: "a long password")
            try await tablet.signIn(username: "sipho", password: "a long password")
            try await Convergence.syncUntilQuiet([owner, phone, tablet])
            #expect(try await Convergence.divergentDevices([owner, phone, tablet]) == [])
            #expect(try await owner.progress(in: course.id).eventCount == 4)
        }
    }

    /// The server side (an attached guest refused by another account) is in
    /// `AuthorizationMatrixTests`; here the device itself refuses before asking the server.
    @Test func aSignedInDeviceMustSignOutBeforeJoiningAnotherAccount() async throws {
        let world = world, course = world.course
        try await world.run { client in
            let first = try world.device(client), second = try world.device(client)
            try await first.signUp(username: "first", password: "a long password")
            try await second.signUp(username: "second", password: "a long password")
            // A device whose guest id and secret were copied to try to join both accounts.
            let guest = try world.device(client)
            try await guest.record(.lessonStarted(lesson: course.lessons[0].id), in: course.id)
            try await guest.signIn(username: "first", password: "a long password")
            await #expect { try await guest.signIn(username: "second", password: "a long password") } throws: { error in
                (error as? SyncError)?.code == .refused
            }
            try await Convergence.syncUntilQuiet([first, second])
            #expect(try await second.progress(in: course.id).eventCount == 0)
            #expect(try await first.progress(in: course.id).eventCount == 1)
        }
    }

    @Test func signInRetriedAfterALostAnswerIsSafe() async throws {
        let world = world, course = world.course
        try await world.run { client in
            let owner = try world.device(client)
            try await owner.signUp(username: "retry", password: "a long password")
            let faulty = FaultyTransport(TestClientTransport(client), faults: Faults(dropAnswer: 0.6), seed: 42)
            let device = try world.device(faulty)
            try await device.complete(course.lessons.prefix(2), in: course)
            try await device.signIn(username: "retry", password: "a long password")
            try await owner.sync()
            #expect(try await owner.progress(in: course.id).eventCount == 2)
            #expect(faulty.counts.droppedAnswers > 0)
        }
    }

    @Test func signOutOnASharedDeviceLeavesNothingForTheNextLearner() async throws {
        let world = world, course = world.course
        try await world.run { client in
            let shop = try world.device(client)
            try await shop.signUp(username: "first-learner", password: "a long password")
            try await shop.complete(course.lessons.prefix(3), in: course)
            let before = try await shop.identity()
            try await shop.signOut()
            let after = try await shop.identity()
            #expect(after.learner.isGuest && after.learner != before.learner && after.replica != before.replica)
            #expect(try await shop.progress(in: course.id).eventCount == 0)
            #expect(try await shop.store.events(in: course.id).isEmpty)
            let other = try world.device(client)
            try await other.signUp(username: "second-learner", password: "a long password")
            try await shop.signIn(username: "second-learner", password: "a long password")
            #expect(try await shop.progress(in: course.id).eventCount == 0)
            // The first learner's work was synced before signing out, so nothing was lost.
            let again = try world.device(client)
            try await again.signIn(username: "first-learner", password: "a long password")
            #expect(try await again.progress(in: course.id).eventCount == 3)
        }
    }

    @Test func signOutRefusesToDropUnsyncedWorkUnlessForced() async throws {
        let world = world, course = world.course
        try await world.run { client in
            let faulty = FaultyTransport(TestClientTransport(client), faults: Faults(), seed: 3)
            let device = try world.device(faulty)
            try await device.signUp(username: "offline", password: "a long password")
            try await device.record(.lessonStarted(lesson: course.lessons[0].id), in: course.id)
            faulty.setOffline(true)
            await #expect { try await device.signOut() } throws: { ($0 as? SyncError)?.code == .notSynced }
            #expect(try await device.pendingCount() == 1)
            try await device.signOut(force: true)
            #expect(try await device.pendingCount() == 0)
        }
    }

    @Test func wrongPasswordsAreRefusedAndRateLimited() async throws {
        let world = world
        try await world.run { client in
            let owner = try world.device(client)
            try await owner.signUp(username: "guarded", password: "a long password")
            let intruder = try world.device(client)
            var codes = [String]()
            for _ in 0..<6 {
                do {
                    try await intruder.signIn(username: "guarded", password: "wrong password")
                } catch let error as SyncError {
                    codes.append(error.problem?.code ?? "none")
                }
            }
            #expect(codes.prefix(5).allSatisfy { $0 == "unauthorized" })
            #expect(codes.last == "rate-limited")
            #expect(try await intruder.identity().learner.isGuest)
        }
    }
}
