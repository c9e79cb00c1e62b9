import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// Requests built to crash the server or to make it work harder than their size: each gets an
/// answer (or is served), and the server goes on answering.
@Suite struct HostileInputTests {
    /// A push whose events are `events` (JSON objects without the learner), under `replica`.
    static func push(_ learner: LearnerID, replica: String, cursor: String = "0", events: [String]) -> Data {
        let objects = events.map { #"{"learner": "\#(learner.rawValue)", "hlc": 1767225600000000, "course": "customer-privacy", \#($0)}"# }
        return Data(#"{"protocol": 1, "replica": "\#(replica)", "lastSeq": 0, "cursor": \#(cursor), "events": [\#(objects.joined(separator: ","))]}"#.utf8)
    }

    /// A reset's `seen` with a run up to Int64.max and another run of the same replica used to
    /// trap on `upperBound + 1`, killing the process.
    @Test func aResetSeenUpToInt64MaxIsServed() async throws {
        let server = try TestServer()
        try await server.test { client in
            let (guest, token) = try await client.registerGuest()
            let replica = ReplicaID.random().rawValue
            for seen in ["\(replica):1-9223372036854775807,3-4", "\(replica):9223372036854775807-9223372036854775807,1-9223372036854775806", "x:1-2;x:9223372036854775806-9223372036854775807"] {
                let body = Self.push(guest, replica: replica, events: [#""seq": 1, "type": "course.reset", "seen": "\#(seen)""#])
                let answer = try await client.post("/v1/sync", body, token: token)
                #expect(answer.status == .ok, "\(seen): \(answer.status) \(String(buffer: answer.body))")
            }
            #expect(try await client.get("/health", token: nil).status == .ok)
        }
    }

    /// A cursor of Int64.max with pushed events used to trap on `cursor + 1`.
    @Test func aPushWithTheLargestCursorIsServed() async throws {
        let server = try TestServer()
        try await server.test { client in
            let (guest, token) = try await client.registerGuest()
            let body = Self.push(
                guest, replica: ReplicaID.random().rawValue, cursor: "9223372036854775807",
                events: [#""seq": 1, "type": "lesson.started", "item": "keep-secure""#])
            let answer = try await client.post("/v1/sync", body, token: token)
            #expect(answer.status == .ok, "\(answer.status) \(String(buffer: answer.body))")
        }
    }

    /// A pulled reset naming a run as long as Int64 allows is renamed in time proportional to the
    /// device's own moved events, not to the run.
    @Test func renamingAHugeRunIsBounded() throws {
        var seen = try SeenEvents(text: "old:1-9223372036854775807")
        seen.rename("old", movedTo: "new", moved: [5: 1, 9223372036854775807: 2, 1: 3])
        #expect(seen.text == "new:1-3;old:2-4,6-9223372036854775806")
    }

    /// Distinct keys in one object cost a comparison with each earlier key: an object may hold
    /// at most 64, so half a megabyte of them is refused after the 65th.
    @Test func anObjectOfManyKeysIsRefusedAtTheCap() async throws {
        var text = #"{"protocol": 1"#
        for index in 0..<50_000 { text += #","k\#(index)":0"# }
        text += "}"
        #expect(text.utf8.count > 500_000)
        #expect(throws: Problem.self) { try WireCoding.decodeRequest(SyncRequest.self, from: Data(text.utf8)) }
        do {
            _ = try WireCoding.decodeRequest(SyncRequest.self, from: Data(text.utf8))
        } catch {
            #expect(error.knownCode == .malformedJSON && error.detail.contains("at most 64 fields"), "\(error.detail)")
        }
        // Unknown fields up to the cap are still skipped.
        var within = #"{"protocol": 1, "replica": "r1", "lastSeq": 0, "cursor": 0, "events": []"#
        for index in 0..<50 { within += #","later\#(index)":{"a":[1,2]}"# }
        #expect(try WireCoding.decodeRequest(SyncRequest.self, from: Data((within + "}").utf8)).cursor == 0)
    }

    /// Every answer says `Cache-Control: no-store`, and request ids are random, not a count.
    @Test func answersAreNotCachedAndTheirIdsAreRandom() async throws {
        let server = try TestServer()
        try await server.test { client in
            var ids = [String]()
            for path in ["/health", "/v1/progress", "/v1/nowhere"] {
                let answer = try await client.get(path, token: nil)
                #expect(answer.headers[.cacheControl] == "no-store", "\(path)")
                ids.append(try #require(answer.headers[HTTPField.Name("X-Request-ID")!]))
            }
            let values = ids.map { UInt64($0.suffix(16), radix: 16) ?? 0 }
            #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) }, "\(ids)")
            #expect(zip(values, values.dropFirst()).allSatisfy { $1 &- $0 > 1_000 }, "consecutive ids: \(ids)")
        }
    }

    /// One address registers at most five times its sign-up allowance of guests in 15 minutes.
    @Test func guestRegistrationsPerAddressAreCapped() async throws {
        let server = try TestServer()
        let clock = server.clock
        try await server.test { client in
            var statuses = [UInt16: Int]()
            for _ in 0..<120 {
                let answer = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: .newGuest(), secret: "a-device-secret-of-enough-length"))
                statuses[UInt16(answer.status.code), default: 0] += 1
                if answer.status == .tooManyRequests { #expect(answer.headers[.retryAfter] != nil) }
            }
            #expect(statuses == [200: 100, 429: 20], "\(statuses)")
            clock.advance(milliseconds: 16 * 60_000)
            #expect(try await client.registerGuest().1.isEmpty == false)
        }
    }
}
