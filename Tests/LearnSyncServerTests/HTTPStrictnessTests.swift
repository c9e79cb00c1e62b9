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
        try WireCoding.encode(RegisterGuestRequest(learner: learner, secret: "a-device-secret-of-enough-length"))
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

/// One reader for every request: the same answer to the same fault, whatever the endpoint.
@Suite struct OneJSONReaderTests {
    static let bodies: [(path: String, body: String)] = [
        ("/v1/guests", #"{"protocol": 1, "learner": "g-duplicate", "secret": "a-device-secret-of-enough-length"}"#),
        ("/v1/accounts", #"{"protocol": 1, "username": "dupe-user", "password": "a long password"}"#),
        ("/v1/sessions", #"{"protocol": 1, "username": "dupe-user", "password": "a long password"}"#),
        ("/v1/sync", #"{"protocol": 1, "replica": "r1", "lastSeq": 0, "cursor": 0, "events": []}"#),
        ("/v1/signout", #"{"protocol": 1}"#),
        ("/v1/account/password", #"{"protocol": 1, "password": "a long password", "newPassword": "another password"}"#),
    ]

    @Test(arguments: bodies.map(\.path))
    func duplicateKeysAndFractionsAreRefusedEverywhere(_ path: String) async throws {
        let body = try #require(Self.bodies.first { $0.path == path }?.body)
        let server = try TestServer()
        try await server.test { client in
            let (_, token) = try await client.registerGuest()
            let faults = [
                body.replacingOccurrences(of: #"{"protocol": 1"#, with: #"{"protocol": 1, "protocol": 1"#),
                body.replacingOccurrences(of: #"{"protocol": 1"#, with: #"{"protocol": 1.5"#),
                body.replacingOccurrences(of: #"{"protocol": 1"#, with: #"{"protocol": 15e-1"#),
            ]
            for fault in faults {
                let response = try await client.post(path, Data(fault.utf8), token: token)
                #expect(response.status == .badRequest, "\(path): \(fault)")
                #expect(response.problem?.code == "malformed-json", "\(path): \(fault)")
            }
            // A duplicate inside a nested object too.
            if path == "/v1/sessions" {
                let nested = #"{"protocol": 1, "username": "dupe-user", "password": "a long password", "guest": {"learner": "g-a", "learner": "g-b", "secret": "a-device-secret-of-enough-length"}}"#
                #expect(try await client.post(path, Data(nested.utf8)).problem?.code == "malformed-json")
            }
        }
    }

    @Test func theVersionIsJudgedFirstOnEveryEndpoint() async throws {
        let server = try TestServer()
        try await server.test { client in
            for (path, body) in Self.bodies {
                let response = try await client.post(path, Data(body.replacingOccurrences(of: #""protocol": 1"#, with: #""protocol": 2"#).utf8))
                #expect(response.problem?.code == "unsupported-version", "\(path)")
            }
        }
    }
}

/// A cursor counts the caller's own feed only.
@Suite struct OpaqueCursorTests {
    @Test func anotherLearnersActivityDoesNotMoveMyCursor() async throws {
        let server = try TestServer()
        try await server.test { client in
            let (me, myToken) = try await client.registerGuest()
            var mine = EventFactory(learner: me)
            let first = try await client.sync(
                SyncRequest(replica: mine.replica, lastSeq: 1, cursor: 0, events: [mine.make(.lessonStarted(lesson: "keep-secure"))]), token: myToken)
            #expect(first.cursor == 1)
            // Someone else is busy: 300 events.
            let (other, otherToken) = try await client.registerGuest()
            var theirs = EventFactory(learner: other)
            let events = try (0..<300).map { _ in try theirs.make(.timeSpent(lesson: "keep-secure", seconds: 5)) }
            _ = try await client.sync(SyncRequest(replica: theirs.replica, lastSeq: 300, cursor: 0, events: events), token: otherToken)
            let again = try await client.sync(
                SyncRequest(replica: mine.replica, lastSeq: 2, cursor: first.cursor, events: [mine.make(.lessonCompleted(lesson: "keep-secure"))]),
                token: myToken)
            #expect(again.cursor == 2, "my cursor counts my feed only")
            let theirPull = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: otherToken)
            #expect(theirPull.cursor == 300)
        }
    }
}

@Suite struct OversizedCredentialTests {
    @Test func aHugeBearerHeaderGetsAProblemNotABareError() async throws {
        let server = try TestServer()
        try await server.test { client in
            let response = try await client.get("/v1/progress", token: String(repeating: "A", count: 4096))
            #expect(response.status == .unauthorized && response.problem?.code == "unauthorized")
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }
}

/// The table that answers 405 names exactly the routes the router serves.
@Suite struct EndpointTableTests {
    @Test func everyListedMethodIsRoutedAndNoOtherEndpointExists() async throws {
        let server = try TestServer()
        try await server.test { client in
            for (path, methods) in Endpoints.methods {
                for method in methods {
                    let response = try await client.executeRequest(uri: path, method: method, headers: [:], body: nil)
                    #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(method) \(path) is listed but not routed")
                }
            }
        }
        // Every endpoint the docs name is in the table.
        let documented = try String(contentsOf: DocumentationTests.docs.appendingPathComponent("openapi.yaml"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("  /") }.map { String($0.dropFirst(2).dropLast()) }
        #expect(Set(documented) == Set(Endpoints.methods.keys))
    }
}
