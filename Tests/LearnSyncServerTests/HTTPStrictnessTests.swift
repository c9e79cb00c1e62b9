import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// Media types, body sizes and methods: every refusal is a problem answer and changes nothing.
@Suite struct HTTPStrictnessTests {
    static func guestBody(_ learner: LearnerID) throws -> Data {
        try JSONEncoder().encode(RegisterGuestRequest(learner: learner, secret: "a-device-secret-of-enough-length"))
    }

    @Test(arguments: [
        ("application/json", true), ("application/json; charset=utf-8", true), ("Application/JSON;charset=\"UTF-8\"", true),
        ("application/jsonp", false), ("application/json; charset=utf-16", false), ("text/plain", false),
        ("application/json; boundary=x", false), ("", false),
    ])
    func onlyJSONInUTF8IsAccepted(_ contentType: String, _ accepted: Bool) async throws {
        let server = try TestServer()
        try await server.test { client in
            let learner = LearnerID.newGuest()
            let response = try await client.post("/v1/guests", try Self.guestBody(learner), contentType: contentType)
            if accepted {
                #expect(response.status == .ok)
            } else {
                #expect(response.status == .unsupportedMediaType && response.problem?.code == "unsupported-media-type")
                #expect(response.headers[.contentType] == "application/problem+json")
                // Nothing was registered: the same id registers now with another secret.
                let other = try await client.post(
                    "/v1/guests", json: RegisterGuestRequest(learner: learner, secret: "another-device-secret-value"))
                #expect(other.status == .ok)
            }
        }
    }

    @Test func aMissingContentTypeIsRefused() async throws {
        let server = try TestServer()
        try await server.test { client in
            let response = try await client.executeRequest(
                uri: "/v1/guests", method: .post, headers: [:], body: ByteBuffer(bytes: try Self.guestBody(.newGuest())))
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test func anOversizedBodyWithoutALengthGets413() async throws {
        let server = try TestServer()
        try await server.test { client in
            // No Content-Length: the limit is found while reading.
            let body = Data(#"{"protocol": 1, "learner": ""#.utf8) + Data(repeating: UInt8(ascii: "a"), count: ProtocolLimits.maxBodyBytes + 1)
            let response = try await client.executeRequest(
                uri: "/v1/guests", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
            #expect(response.status == .contentTooLarge && response.problem?.code == "body-too-large")
        }
    }

    @Test func otherMethodsOnAnEndpointGet405WithAllow() async throws {
        let server = try TestServer()
        try await server.test { client in
            for (path, method, allow) in [
                ("/v1/sync", HTTPRequest.Method.put, "POST"), ("/v1/sync", .get, "POST"), ("/v1/account", .post, "DELETE"),
                ("/v1/export", .delete, "GET"), ("/health", .post, "GET"),
            ] {
                let response = try await client.executeRequest(uri: path, method: method, headers: [:], body: nil)
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.problem?.code == "method-not-allowed")
                #expect(response.headers[.allow] == allow)
            }
            let unknown = try await client.executeRequest(uri: "/v1/nothing", method: .get, headers: [:], body: nil)
            #expect(unknown.status == .notFound && unknown.problem?.code == "not-found")
        }
    }
}
