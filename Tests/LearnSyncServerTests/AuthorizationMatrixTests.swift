import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// Every endpoint × every kind of caller: only the owner's valid token acts on the owner.
@Suite struct AuthorizationMatrixTests {
    enum Caller: String, CaseIterable {
        case own, otherAccount, otherGuest, none, expired, revoked
    }

    @Test(arguments: Caller.allCases, StoreKind.all)
    func syncActsOnlyForTheTokensOwner(_ caller: Caller, _ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock
        try await server.test { client in
            let tokens = try await Self.tokens(client, clock: clock)
            var events = EventFactory(learner: tokens.owner)
            let event = try events.make(.lessonCompleted(lesson: "keep-secure"), at: clock.millisecondsSince1970())
            let body = SyncRequest(replica: events.replica, lastSeq: event.id.seq, cursor: 0, events: [event])
            let response = try await client.post("/v1/sync", json: body, token: tokens.token(for: caller))
            switch caller {
            case .own:
                #expect(response.status == .ok)
            case .otherAccount, .otherGuest:
                let answer = try WireCoding.decode(SyncResponse.self, from: Data(response.body.readableBytesView))
                #expect(answer.rejected.map(\.code) == ["foreign-learner"])
            case .none, .expired, .revoked:
                #expect(response.status == .unauthorized)
                #expect(response.problem?.code == "unauthorized")
            }
            // The owner's feed holds the event only if the owner pushed it.
            let feed = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: tokens.ownFresh)
            #expect(feed.events.count == (caller == .own ? 1 : 0), "\(caller)")
        }
    }

    @Test(arguments: Caller.allCases, StoreKind.all)
    func signOutRevokesOnlyTheCallersToken(_ caller: Caller, _ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock
        try await server.test { client in
            let tokens = try await Self.tokens(client, clock: clock)
            let response = try await client.post("/v1/signout", json: SignOutRequest(), token: tokens.token(for: caller))
            switch caller {
            case .own, .otherAccount, .otherGuest:
                #expect(response.status == .ok)
            case .none, .expired, .revoked:
                #expect(response.status == .unauthorized)
            }
            // The owner's other session is untouched whatever the caller did.
            _ = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: tokens.ownFresh)
        }
    }

    @Test(arguments: Caller.allCases, StoreKind.all)
    func exportAndErasureActOnlyOnTheCallersOwnData(_ caller: Caller, _ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock
        try await server.test { client in
            let tokens = try await Self.tokens(client, clock: clock)
            var events = EventFactory(learner: tokens.owner)
            let event = try events.make(.lessonCompleted(lesson: "keep-secure"), at: clock.millisecondsSince1970())
            _ = try await client.sync(SyncRequest(replica: events.replica, lastSeq: 1, cursor: 0, events: [event]), token: tokens.ownFresh)

            let export = try await client.get("/v1/export", token: tokens.token(for: caller))
            let erase = try await client.delete("/v1/account", json: DeleteAccountRequest(password: caller == .otherGuest ? nil : "a long password"), token: tokens.token(for: caller))
            switch caller {
            case .own:
                #expect(try export.decode(ExportDocument.self).events == [event])
                #expect(erase.status == .ok)
            case .otherAccount, .otherGuest:
                let theirs = try export.decode(ExportDocument.self)
                #expect(theirs.learner.id != tokens.owner && theirs.events.isEmpty)
                #expect(erase.status == .ok, "they erase themselves, no one else")
            case .none, .expired, .revoked:
                #expect(export.status == .unauthorized && erase.status == .unauthorized)
            }
            // The owner's data survives anything but the owner's own erasure.
            let owner = try await client.get("/v1/export", token: tokens.ownFresh)
            #expect(owner.status == (caller == .own ? .gone : .ok), "\(caller)")
        }
    }

    @Test(arguments: StoreKind.all) func aGuestCannotBeAttachedWithoutItsSecretNorToTwoAccounts(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let guest = LearnerID.newGuest()
            let secret = "the-real-device-secret"
            _ = try await client.registerGuest(guest, secret: secret)
            _ = try await client.post("/v1/accounts", json: CredentialsRequest(username: "mallory", password: "a long password", guest: nil))
            let stolen = try await client.post(
                "/v1/sessions", json: CredentialsRequest(username: "mallory", password: "a long password", guest: GuestProof(learner: guest, secret: "a-guessed-secret-value")))
            #expect(stolen.status == .forbidden)
            let joined = try await client.post(
                "/v1/accounts", json: CredentialsRequest(username: "alice", password: "a long password", guest: GuestProof(learner: guest, secret: secret)))
            #expect(joined.status == .created)
            let twice = try await client.post(
                "/v1/sessions", json: CredentialsRequest(username: "mallory", password: "a long password", guest: GuestProof(learner: guest, secret: secret)))
            #expect(twice.status == .conflict)
            #expect(twice.problem?.code == "guest-attached")
            // Attaching again to the same account is idempotent.
            let again = try await client.post(
                "/v1/sessions", json: CredentialsRequest(username: "alice", password: "a long password", guest: GuestProof(learner: guest, secret: secret)))
            #expect(again.status == .ok)
            // The attached guest can no longer get a guest token with its secret alone.
            let register = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: guest, secret: secret))
            #expect(register.status == .conflict)
        }
    }

    @Test(arguments: StoreKind.all) func signUpRejectsBadCredentialsShapes(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            for (username, password) in [("ab", "a long password"), ("UPPER", "a long password"), ("ok-name", "short"), ("has space", "a long password")] {
                let response = try await client.post("/v1/accounts", json: CredentialsRequest(username: username, password: password, guest: nil))
                #expect(response.problem?.code == "invalid-request", "\(username)")
            }
        }
    }

    struct Tokens {
        var owner: LearnerID
        var own, ownFresh, otherAccount, otherGuest, expired, revoked: String

        func token(for caller: Caller) -> String? {
            switch caller {
            case .own: own
            case .otherAccount: otherAccount
            case .otherGuest: otherGuest
            case .none: nil
            case .expired: expired
            case .revoked: revoked
            }
        }
    }

    static func signUp(_ client: any TestClientProtocol, _ username: String) async throws -> SessionResponse {
        let response = try await client.post("/v1/accounts", json: CredentialsRequest(username: username, password: "a long password", guest: nil))
        return try WireCoding.decode(SessionResponse.self, from: Data(response.body.readableBytesView))
    }

    static func signIn(_ client: any TestClientProtocol, _ username: String) async throws -> SessionResponse {
        let response = try await client.post("/v1/sessions", json: CredentialsRequest(username: username, password: "a long password", guest: nil))
        return try WireCoding.decode(SessionResponse.self, from: Data(response.body.readableBytesView))
    }

    /// The owner's tokens in every state, plus other learners' tokens.
    static func tokens(_ client: any TestClientProtocol, clock: ManualWallClock) async throws -> Tokens {
        // A token issued 31 days ago is expired now.
        clock.advance(milliseconds: -31 * 24 * 3_600_000)
        let expired = try await signUp(client, "owner")
        clock.advance(milliseconds: 31 * 24 * 3_600_000)
        let own = try await signIn(client, "owner"), fresh = try await signIn(client, "owner")
        let revoked = try await signIn(client, "owner")
        _ = try await client.post("/v1/signout", json: SignOutRequest(), token: revoked.token)
        let other = try await signUp(client, "other")
        let (_, guestToken) = try await client.registerGuest()
        return Tokens(
            owner: own.learner, own: own.token, ownFresh: fresh.token, otherAccount: other.token, otherGuest: guestToken,
            expired: expired.token, revoked: revoked.token)
    }
}
