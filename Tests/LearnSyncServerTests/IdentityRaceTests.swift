import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// Identity changes racing each other: each acts on the identity it checked, in the same
/// transaction, on both stores. Each race runs 100 times.
@Suite struct IdentityRaceTests {
    static let rounds = 100
    static let secret = "a-device-secret-of-enough-length"
    /// Each round starts past the throttles' 15-minute window, so a round's refused attempts
    /// (the point of the race) never make the next one `rate-limited`.
    static let pastThrottles: Int64 = 16 * 60_000

    /// A guest's `DELETE /v1/account` racing the sign-in that attaches that guest: the guest may
    /// be erased (then the sign-in is refused) or attached (then the erasure is refused), but the
    /// account is never erased without its password, and nothing answers 500.
    @Test(arguments: StoreKind.all) func aGuestsErasureRacingItsSignInNeverErasesTheAccount(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock
        try await server.test { client in
            _ = try await client.signUp("racer")
            var outcomes = [String: Int]()
            for _ in 0..<Self.rounds {
                clock.advance(milliseconds: Self.pastThrottles)
                let (guest, token) = try await client.registerGuest(secret: Self.secret)
                async let erased = client.delete("/v1/account", json: DeleteAccountRequest(password: nil), token: token)
                async let signedIn = client.signIn("racer", guest: GuestProof(learner: guest, secret: Self.secret))
                let (erasure, signIn) = try await (erased.status.code, signedIn.status.code)
                outcomes["erase \(erasure), sign-in \(signIn)", default: 0] += 1
                #expect([200, 401, 410].contains(erasure) && [200, 410].contains(signIn), "erase \(erasure), sign-in \(signIn)")
                #expect(erasure != 200 || signIn == 410, "the erased guest was attached")
                // The account is whole: its password still signs in.
                #expect(try await client.signIn("racer").status == .ok, "the account was erased by its guest")
            }
            print("IdentityRaceTests (\(store)): \(outcomes.sorted { $0.key < $1.key })")
        }
    }

    /// A guest's sign-out everywhere racing the sign-in that attaches it: the account's own
    /// tokens are never the guest's to revoke.
    @Test(arguments: StoreKind.all) func aGuestsSignOutEverywhereNeverEndsTheAccountsSessions(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock
        try await server.test { client in
            let (_, accountToken) = try await client.signUp("keeper")
            for _ in 0..<Self.rounds {
                clock.advance(milliseconds: Self.pastThrottles)
                let (guest, token) = try await client.registerGuest(secret: Self.secret)
                async let signedOut = client.post("/v1/signout", json: SignOutRequest(everywhere: true), token: token)
                async let signedIn = client.signIn("keeper", guest: GuestProof(learner: guest, secret: Self.secret))
                let (signOut, signIn) = try await (signedOut.status.code, signedIn.status.code)
                #expect([200, 401].contains(signOut) && signIn == 200, "sign-out \(signOut), sign-in \(signIn)")
                let pull = try await client.post("/v1/sync", json: SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: accountToken)
                #expect(pull.status == .ok, "the guest's sign-out ended the account's session")
            }
        }
    }

    /// A password change racing a sign-in with the old password: whichever comes first, no
    /// token minted from the old password works once the change is done.
    @Test(arguments: StoreKind.all) func noTokenFromAnOldPasswordSurvivesItsChange(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock
        try await server.test { client in
            var (_, token) = try await client.signUp("changer", password: "password number 0")
            var survivors = 0
            for round in 0..<Self.rounds {
                clock.advance(milliseconds: Self.pastThrottles)
                let old = "password number \(round)", new = "password number \(round + 1)"
                let current = token
                async let changed = client.post("/v1/account/password", json: ChangePasswordRequest(password: old, newPassword: new), token: current)
                async let signedIn = client.signIn("changer", password: old)
                let (change, signIn) = try await (changed, signedIn)
                #expect(change.status == .ok, "the change was refused: \(change.status)")
                #expect([200, 401].contains(signIn.status.code), "sign-in answered \(signIn.status)")
                token = try change.decode(SessionResponse.self).token
                if signIn.status == .ok {
                    let oldToken = try signIn.decode(SessionResponse.self).token
                    let pull = try await client.post(
                        "/v1/sync", json: SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: oldToken)
                    if pull.status == .ok { survivors += 1 }
                }
            }
            #expect(survivors == 0, "\(survivors) tokens minted from an old password outlived its change")
        }
    }

    /// An account's erasure racing its own sign-in: one wins; the other answers 401 or 410.
    @Test(arguments: StoreKind.all) func anErasureRacingASignInAnswersNo500(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let clock = server.clock
        try await server.test { client in
            for round in 0..<Self.rounds {
                clock.advance(milliseconds: Self.pastThrottles)
                let (guest, _) = try await client.registerGuest(secret: Self.secret)
                let (_, token) = try await client.signUp("erased-\(round)")
                async let erased = client.delete("/v1/account", json: DeleteAccountRequest(password: "a long password"), token: token)
                async let signedIn = client.signIn("erased-\(round)", guest: GuestProof(learner: guest, secret: Self.secret))
                let (erasure, signIn) = try await (erased.status.code, signedIn.status.code)
                #expect(erasure == 200, "the erasure answered \(erasure)")
                #expect([200, 401, 410].contains(signIn), "the sign-in answered \(signIn)")
            }
        }
    }
}
