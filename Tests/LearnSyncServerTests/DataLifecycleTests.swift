import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Logging
import ServiceLifecycle
import Testing

/// Guest expiry, export, password change and sign-out everywhere on the server.
@Suite struct DataLifecycleTests {
    static let day: Int64 = 86_400_000
    static let retention = 90 * day

    @Test(arguments: StoreKind.all) func idleUnattachedGuestsExpireAndComeBackWhenTheyRegisterAgain(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock, service = server.service
        try await server.test { client in
            let (idle, idleToken) = try await client.registerGuest()
            var factory = EventFactory(learner: idle)
            let events = try [factory.make(.lessonCompleted(lesson: "keep-secure")), factory.make(.lessonStarted(lesson: "keep-secure"))]
            _ = try await client.sync(SyncRequest(replica: factory.replica, lastSeq: 2, cursor: 0, events: events), token: idleToken)
            let (active, activeToken) = try await client.registerGuest()
            let (attached, _) = try await client.registerGuest()
            _ = try await client.signUp("keeps", guest: GuestProof(learner: attached, secret: "a-device-secret-of-enough-length"))

            // Day 20: the active guest pulls (a read, which marks it seen). Day 91: only the idle
            // guest has gone 90 days without a sync.
            clock.advance(milliseconds: 20 * Self.day)
            _ = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: activeToken)
            clock.advance(milliseconds: 71 * Self.day)
            let report = try await service.sweep(guestRetention: Self.retention)
            #expect(report.expiredGuests == 1 && report.events == 2)
            #expect(report.sessions >= 3, "expired sessions are purged too")
            #expect(try await service.sweep(guestRetention: Self.retention) == SweepReport())

            // The idle guest's token no longer works; registering again says it expired, and the
            // device's events are accepted again.
            #expect(try await client.post("/v1/sync", json: SyncRequest(replica: factory.replica, lastSeq: 2, cursor: 0, events: []), token: idleToken).status == .unauthorized)
            let again = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: idle, secret: "a-device-secret-of-enough-length"))
            let session = try again.decode(SessionResponse.self)
            #expect(session.guestExpired == true)
            let resent = try await client.sync(SyncRequest(replica: factory.replica, lastSeq: 2, cursor: 0, events: events), token: session.token)
            #expect(resent.rejected.isEmpty && resent.renewReplica == false)
            #expect(try await client.get("/v1/export", token: session.token).decode(ExportDocument.self).events == events)
            // Registering once more says so again: the first answer may have been lost, and a
            // device that never read it would hold events the server no longer has.
            let third = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: idle, secret: "a-device-secret-of-enough-length"))
            #expect(try third.decode(SessionResponse.self).guestExpired == true)
            // The active and the attached guest are still known.
            #expect(try await client.registerGuest(active).1.isEmpty == false)
            #expect(try await client.signIn("keeps").status == .ok)
        }
    }

    @Test(arguments: StoreKind.all) func theRetentionServiceSweepsInTheServersServiceGroup(_ store: StoreKind) async throws {
        let clock = ManualWallClock()
        let (store, pool) = try await store.makeStore()
        defer { withExtendedLifetime(pool) {} }
        let service = SyncService(store: store, catalog: try SampleCatalog.load(), clock: clock, passwordCost: 4)
        let guest = LearnerID.newGuest()
        _ = try await service.registerGuest(RegisterGuestRequest(learner: guest, secret: "a-device-secret-of-enough-length"), address: "direct")
        clock.advance(milliseconds: 2 * Self.day)
        let sweeper = RetentionService(service: service, guestRetention: .seconds(86_400), interval: .milliseconds(10), logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [sweeper], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        // Polled without registering, which would mark the guest seen. The whole test run
        // loads PostgreSQL: a sweep has taken over a minute there.
        let expired = try await eventually(timeout: .seconds(180)) { try await store.credentials(of: guest) == nil }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(expired)
        // Only the guest's own device secret restarts it: its id is not anyone's to claim.
        await #expect { _ = try await service.registerGuest(RegisterGuestRequest(learner: guest, secret: "someone-elses-secret-of-length"), address: "direct") } throws: {
            ($0 as? Problem)?.knownCode == .conflict
        }
        let again = try await service.registerGuest(RegisterGuestRequest(learner: guest, secret: "a-device-secret-of-enough-length"), address: "direct")
        #expect(again.guestExpired == true)
    }

    @Test(arguments: StoreKind.all) func exportHoldsTheCallersDataOnlyAsJSONAndXAPI(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let course = server.catalog[SampleCatalog.courseID]!
        try await server.test { client in
            let (guest, guestToken) = try await client.registerGuest()
            var factory = EventFactory(learner: guest)
            var events = try course.lessons.map { try factory.make(.lessonCompleted(lesson: $0.id)) }
            events += try course.quizzes.map { quiz in try factory.make(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: course.version)) }
            _ = try await client.sync(SyncRequest(replica: factory.replica, lastSeq: factory.seq, cursor: 0, events: events), token: guestToken)
            let (account, token) = try await client.signUp("exporter", guest: GuestProof(learner: guest, secret: "a-device-secret-of-enough-length"))
            let (stranger, strangerToken) = try await client.registerGuest()
            var theirs = EventFactory(learner: stranger)
            _ = try await client.sync(
                SyncRequest(replica: theirs.replica, lastSeq: 1, cursor: 0, events: [theirs.make(.lessonStarted(lesson: "keep-secure"))]), token: strangerToken)

            let document = try await client.get("/v1/export", token: token).decode(ExportDocument.self)
            #expect(document.source == .server && document.learner.id == account && document.learner.username == "exporter")
            #expect(document.guests.map(\.id) == [guest])
            #expect(Set(document.events) == Set(events))
            #expect(document.sessions.count == 1)
            #expect(document.progress.first?.certificate.isEarned == true)

            let xapi = try await client.get("/v1/export?format=xapi", token: token).decode(XAPIStatementResult.self)
            #expect(xapi.statements.count == events.count + 1, "one statement per event and one for the certificate")
            #expect(xapi.statements.allSatisfy { $0.actor.account.name == account.rawValue && $0.version == "1.0.3" })
            #expect(xapi.statements.filter { $0.verb.id.hasSuffix("/passed") }.count == course.quizzes.count)
            #expect(Set(xapi.statements.map(\.id)).count == xapi.statements.count)

            #expect(try await client.get("/v1/export?format=csv", token: token).status == .badRequest)
            #expect(try await client.get("/v1/export", token: nil).status == .unauthorized)
            #expect(try await client.get("/v1/export", token: "forged").status == .unauthorized)
        }
    }

    @Test(arguments: StoreKind.all) func changingThePasswordRevokesEveryTokenAndNeedsTheOldOne(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (_, first) = try await client.signUp("changer")
            let second = try await client.signIn("changer").decode(SessionResponse.self).token
            let wrong = try await client.post("/v1/account/password", json: ChangePasswordRequest(password: "not the password", newPassword: "a newer password"), token: first)
            #expect(wrong.status == .unauthorized)
            let short = try await client.post("/v1/account/password", json: ChangePasswordRequest(password: "a long password", newPassword: "short"), token: first)
            #expect(short.status == .badRequest)
            let changed = try await client.post("/v1/account/password", json: ChangePasswordRequest(password: "a long password", newPassword: "a newer password"), token: first)
            #expect(changed.status == .ok)
            let fresh = try changed.decode(SessionResponse.self).token
            for old in [first, second] {
                #expect(try await client.get("/v1/progress", token: old).status == .unauthorized)
            }
            #expect(try await client.get("/v1/progress", token: fresh).status == .ok)
            #expect(try await client.signIn("changer").status == .unauthorized)
            #expect(try await client.signIn("changer", password: "a newer password").status == .ok)
            // A guest has no password to change.
            let (_, guestToken) = try await client.registerGuest()
            let guest = try await client.post("/v1/account/password", json: ChangePasswordRequest(password: "a long password", newPassword: "a newer password"), token: guestToken)
            #expect(guest.status == .forbidden)
        }
    }

    @Test(arguments: StoreKind.all) func signOutEverywhereRevokesEveryTokenOfTheAccount(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (_, first) = try await client.signUp("everywhere")
            let second = try await client.signIn("everywhere").decode(SessionResponse.self).token
            let (_, otherToken) = try await client.signUp("bystander")
            let answer = try await client.post("/v1/signout", json: SignOutRequest(everywhere: true), token: first).decode(SignOutResponse.self)
            #expect(answer.revoked && answer.sessions == 2)
            for token in [first, second] {
                #expect(try await client.get("/v1/progress", token: token).status == .unauthorized)
            }
            #expect(try await client.get("/v1/progress", token: otherToken).status == .ok)
        }
    }
}
