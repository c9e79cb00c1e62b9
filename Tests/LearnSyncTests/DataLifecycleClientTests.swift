import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting
import Testing

/// The learner's data lifecycle as devices live it: erasure reaches every device, an expired
/// guest loses nothing, exports work offline, tokens can be revoked everywhere.
@Suite struct DataLifecycleClientTests {
    static let day: Int64 = 86_400_000

    @Test func anOfflineDeviceOfAnErasedAccountComesOnlineWithNewEvents() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client), tablet = try world.device(client)
            try await phone.complete(world.course.lessons.prefix(2), in: world.course)
            let account = try await phone.signUp(username: "erased-learner", password: "a long password")
            try await tablet.record(.lessonStarted(lesson: "keep-secure"), in: world.course.id)
            try await tablet.signIn(username: "erased-learner", password: "a long password")
            // The tablet goes offline and keeps recording.
            try await tablet.complete(world.course.lessons.suffix(3), in: world.course)
            #expect(try await tablet.pendingCount() == 3)

            let erased = try await phone.deleteAccount(password: "a long password")
            #expect(erased.learner == account && erased.guests == 2 && erased.events == 3)
            #expect(try await phone.identity().learner.isGuest)
            #expect(try await phone.hasNoData())
            #expect(try await phone.notice()?.kind == .learnerErased)

            // Back online: the tablet is told, wipes the learner's data, and says why.
            let error = await #expect(throws: SyncError.self) { try await tablet.sync() }
            #expect(error?.code == .learnerErased)
            #expect(try await tablet.identity().learner.isGuest)
            #expect(try await tablet.hasNoData())
            let notice = try #require(try await tablet.notice())
            #expect(notice.kind == .learnerErased && notice.message.contains("erased"))
            // Its next sync registers the new guest; the server holds nothing of the old learner.
            let report = try await tablet.sync()
            #expect(report.pushed == 0 && report.pulled == 0)
            await #expect(throws: SyncError.self) { try await tablet.signIn(username: "erased-learner", password: "a long password") }
        }
    }

    @Test func aDeviceThatNeverSyncsAgainLeavesNothingOnTheServer() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client), oldPhone = try world.device(client)
            try await phone.signUp(username: "left-behind", password: "a long password")
            try await oldPhone.complete(world.course.lessons.prefix(4), in: world.course)
            try await oldPhone.signIn(username: "left-behind", password: "a long password")
            let oldToken = try #require(try await oldPhone.store.syncState().token)
            let guests = try await oldPhone.store.guests(of: try await oldPhone.identity().learner)
            try await phone.deleteAccount(password: "a long password")
            // The old phone is never seen again; the server kept nothing to give back to it.
            await #expect(throws: Problem.self) { _ = try await world.service.export(authorization: "Bearer \(oldToken)") }
            for learner in guests + [try await oldPhone.identity().learner] {
                #expect(try await world.service.store.credentials(of: learner) == nil)
            }
            // Its copy stays on the device until it syncs or signs out: the server cannot reach it.
            #expect(try await oldPhone.exportData().events.count == 4)
        }
    }

    @Test func anExpiredGuestIsToldAndPushesEverythingAgain() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client)
            try await phone.complete(world.course.lessons.prefix(3), in: world.course)
            try await phone.sync()
            world.clock.advance(milliseconds: 120 * Self.day)
            let swept = try await world.service.sweep(guestRetention: 90 * Self.day)
            #expect(swept.expiredGuests == 1 && swept.events == 3)
            try await phone.passQuiz(in: world.course)

            let report = try await phone.sync()
            #expect(report.guestExpired)
            #expect(report.pushed == 4)
            #expect(try await phone.notice()?.kind == .guestExpired)
            let mine = try await phone.progress(in: world.course.id)
            let server = try await phone.serverProgress()
            #expect(server.courses.first?.progress == mine)
            // Nothing is pushed twice afterwards.
            #expect(try await phone.sync().pushed == 0)
        }
    }

    @Test func anExpiredGuestSigningInAttachesEverything() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client), laptop = try world.device(client)
            try await laptop.signUp(username: "returning", password: "a long password")
            try await phone.complete(world.course.lessons.prefix(2), in: world.course)
            try await phone.sync()
            world.clock.advance(milliseconds: 100 * Self.day)
            _ = try await world.service.sweep(guestRetention: 90 * Self.day)
            try await phone.signIn(username: "returning", password: "a long password")
            try await laptop.signIn(username: "returning", password: "a long password")
            let lessons = world.course.lessons.prefix(2).map(\.id)
            let progress = try await laptop.progress(in: world.course.id)
            #expect(lessons.allSatisfy { progress.status(of: $0) == .completed })
            #expect(try await phone.notice()?.kind == .guestExpired)
        }
    }

    @Test func signingOutEverywhereRevokesOtherDevicesWithoutTouchingTheirData() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client), tablet = try world.device(client)
            try await phone.signUp(username: "everywhere", password: "a long password")
            try await tablet.signIn(username: "everywhere", password: "a long password")
            try await phone.record(.lessonStarted(lesson: "keep-secure"), in: world.course.id)
            try await tablet.signOut(everywhere: true)
            let error = await #expect(throws: SyncError.self) { try await phone.sync() }
            #expect(error?.code == .unauthorized)
            #expect(try await phone.pendingCount() == 1, "revoking a token removes nothing from the device")
            try await phone.signIn(username: "everywhere", password: "a long password")
            #expect(try await phone.pendingCount() == 0)
        }
    }

    @Test func changingThePasswordKeepsThisDeviceSignedIn() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client), tablet = try world.device(client)
            try await phone.signUp(username: "rotating", password: "a long password")
            try await tablet.signIn(username: "rotating", password: "a long password")
            await #expect(throws: SyncError.self) { try await phone.changePassword(current: "wrong password", new: "a newer password") }
            try await phone.changePassword(current: "a long password", new: "a newer password")
            try await phone.sync()
            let error = await #expect(throws: SyncError.self) { try await tablet.sync() }
            #expect(error?.code == .unauthorized)
            try await tablet.signIn(username: "rotating", password: "a newer password")
            try await tablet.sync()
        }
    }

    @Test func aGuestThatNeverSyncedIsErasedWithoutTellingTheServer() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client)
            let guest = try await phone.identity().learner
            try await phone.complete(world.course.lessons.prefix(2), in: world.course)
            let erased = try await phone.deleteAccount(password: nil)
            #expect(erased.learner == guest && erased.events == 2)
            #expect(try await phone.hasNoData())
            #expect(try await phone.identity().learner != guest)
            // The server never heard of it: registering it now is a first registration.
            #expect(try await world.service.store.credentials(of: guest) == nil)
        }
    }

    @Test func aDeviceExportsWhatItHoldsOffline() async throws {
        let world = try World()
        let offline = LearnSyncClient(store: try DeviceStore.inMemory(catalog: world.catalog, clock: world.clock), transport: nil)
        try await offline.complete(world.course.lessons, in: world.course)
        try await offline.passQuiz(in: world.course)
        let document = try await offline.exportData()
        #expect(document.source == .device && document.events.count == world.course.lessons.count + 1)
        #expect(document.progress.first?.certificate.isEarned == true)
        #expect(document.progress.first?.progress == (try await offline.progress(in: world.course.id)))
        await #expect(throws: SyncError.self) { try await offline.serverExport() }
        await #expect(throws: SyncError.self) { try await offline.deleteAccount(password: nil) }
    }
}

extension LearnSyncClient {
    func hasNoData() async throws -> Bool {
        let pending = try await pendingCount()
        return try await exportData().events.isEmpty && pending == 0
    }
}
