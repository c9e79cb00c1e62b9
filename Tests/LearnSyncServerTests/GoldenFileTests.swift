import Foundation
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// The golden files decode and re-encode to the same JSON, and the server answers them.
@Suite struct GoldenFileTests {
    func roundTrip<T: WireCodable>(_ type: T.Type, _ name: String) throws {
        let data = try Golden.data(name)
        let value = try WireCoding.decode(type, from: data)
        #expect(try Golden.sameJSON(WireCoding.encode(value), data), "\(name)")
    }

    @Test func everyGoldenFileRoundTrips() throws {
        try roundTrip(SyncRequest.self, "sync-request.json")
        try roundTrip(SyncResponse.self, "sync-response.json")
        try roundTrip(RegisterGuestRequest.self, "register-guest-request.json")
        try roundTrip(SessionResponse.self, "session-response.json")
        try roundTrip(CredentialsRequest.self, "signin-request.json")
        try roundTrip(Problem.self, "problem-unsupported-version.json")
        try roundTrip(Problem.self, "problem-unauthorized.json")
        try roundTrip(Problem.self, "problem-learner-erased.json")
        try roundTrip(SessionResponse.self, "session-response-guest-expired.json")
        try roundTrip(DeleteAccountRequest.self, "delete-account-request.json")
        try roundTrip(DeleteAccountResponse.self, "delete-account-response.json")
    }

    @Test(arguments: StoreKind.all) func theServerAnswersTheGoldenRequests(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let register = try await client.post("/v1/guests", Golden.data("register-guest-request.json"))
            #expect(register.status == .ok)
            let session = try WireCoding.decode(SessionResponse.self, from: Data(register.body.readableBytesView))
            let sync = try await client.post("/v1/sync", Golden.data("sync-request.json"), token: session.token)
            #expect(sync.status == .ok)
            let answer = try WireCoding.decode(SyncResponse.self, from: Data(sync.body.readableBytesView))
            #expect(answer.rejected.isEmpty)
            #expect(answer.more == false)
            let problem = try WireCoding.decode(Problem.self, from: Golden.data("problem-unsupported-version.json"))
            let versioned = try await client.post("/v1/sync", Data(#"{"protocol": 2}"#.utf8), token: session.token)
            #expect(versioned.problem == problem)
        }
    }
}
