import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// A push's answer pages the feed after the device's cursor, leaving out what the device holds.
/// When the pushed events come right after its cursor, the page starts past them; otherwise it
/// reads them like any other row.
@Suite struct PushAnswerTests {
    @Test(arguments: StoreKind.all) func aPushRightAfterTheCursorIsAnsweredPastIt(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var phone = EventFactory(learner: learner), tablet = EventFactory(learner: learner)
            func push(_ device: inout EventFactory, _ count: Int, cursor: Int64, limit: Int) async throws -> SyncResponse {
                let batch = try (0..<count).map { _ in try device.make(.lessonStarted(lesson: "keep-secure")) }
                return try await client.sync(SyncRequest(replica: device.replica, lastSeq: device.seq, cursor: cursor, events: batch, limit: limit), token: token)
            }

            // Right after the cursor: past all five at once, though the page holds two rows.
            let first = try await push(&phone, 5, cursor: 0, limit: 2)
            #expect(first.events.isEmpty)
            #expect(first.cursor == 5)
            #expect(!first.more)

            // Another replica of the learner pushes from cursor 0: the phone's five come first,
            // so its page reads them and sends them, two at a time.
            let second = try await push(&tablet, 3, cursor: 0, limit: 2)
            #expect(second.events.map(\.id.seq) == [1, 2])
            #expect(second.events.allSatisfy { $0.id.replica == phone.replica })
            #expect(second.cursor == 2)
            #expect(second.more)

            // The phone pushes again from cursor 5: the tablet's three came in between, so they
            // are sent, and the phone's own two are left out.
            let third = try await push(&phone, 2, cursor: first.cursor, limit: 100)
            #expect(third.events.map(\.id) == (1...3).map { EventID(replica: tablet.replica, seq: $0) })
            #expect(third.cursor == 10)
            #expect(!third.more)
        }
    }
}
