import Foundation
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// The golden files decode and re-encode to the same JSON, and the server answers them.
@Suite struct GoldenFileTests {
    @Test(arguments: [
        ("sync-request.json", SyncRequest.self as any Codable.Type),
        ("sync-response.json", SyncResponse.self), ("register-guest-request.json", RegisterGuestRequest.self),
        ("session-response.json", SessionResponse.self), ("problem-unsupported-version.json", Problem.self),
        ("problem-unauthorized.json", Problem.self),
    ])
    func roundTrips(_ name: String, _ type: any Codable.Type) throws {
        let data = try Golden.data(name)
        let value = try JSONDecoder().decode(type, from: data)
        #expect(try Golden.sameJSON(JSONEncoder().encode(value), data), "\(name)")
    }

    @Test func theServerAnswersTheGoldenRequests() async throws {
        let server = try TestServer()
        try await server.test { client in
            let register = try await client.post("/v1/guests", Golden.data("register-guest-request.json"))
            #expect(register.status == .ok)
            let session = try JSONDecoder().decode(SessionResponse.self, from: Data(register.body.readableBytesView))
            let sync = try await client.post("/v1/sync", Golden.data("sync-request.json"), token: session.token)
            #expect(sync.status == .ok)
            let answer = try JSONDecoder().decode(SyncResponse.self, from: Data(sync.body.readableBytesView))
            #expect(answer.rejected.isEmpty)
            #expect(answer.more == false)
            let problem = try JSONDecoder().decode(Problem.self, from: Golden.data("problem-unsupported-version.json"))
            let versioned = try await client.post("/v1/sync", Data(#"{"protocol": 2}"#.utf8), token: session.token)
            #expect(versioned.problem == problem)
        }
    }
}
