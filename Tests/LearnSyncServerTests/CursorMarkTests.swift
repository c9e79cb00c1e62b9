import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// Every answer names the mark of the feed row at its cursor; a request naming another mark, or
/// a cursor past the feed's end, finds a feed that went back in time (a restored server) and is
/// answered from the feed's start, `rewound`. Requests without a mark are not checked.
@Suite struct CursorMarkTests {
    @Test(arguments: StoreKind.all) func aCursorWhoseRowChangedIsAnsweredFromTheStart(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var phone = EventFactory(learner: learner), tablet = EventFactory(learner: learner)
            let batch = try (0..<3).map { _ in try phone.make(.lessonStarted(lesson: "keep-secure")) }
            let pushed = try await client.sync(SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 0, events: batch), token: token)
            let mark = try #require(pushed.cursorMark, "a push's answer names the mark of its cursor's row")
            #expect(pushed.cursor == 3 && !pushed.rewound)

            // The same cursor and mark: the feed is as the device saw it. An idle pull's answer
            // leaves the unchanged mark (and the unchanged lastSeq) out: the device keeps its own.
            let idle = try await client.sync(
                SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 3, cursorMark: mark, events: []), token: token)
            #expect(!idle.rewound && idle.cursor == 3 && idle.cursorMark == nil && idle.lastSeq == nil && idle.events.isEmpty)

            // A page that reads rows names the last one's mark: the push's, for all three.
            let pulled = try await client.sync(SyncRequest(replica: tablet.replica, lastSeq: 0, cursor: 0, events: []), token: token)
            #expect(pulled.cursor == 3 && pulled.cursorMark == mark && pulled.events.count == 3)

            // Another mark at the cursor: the row was stored again since (the server forgot it).
            let other = mark == Int64.max ? 1 : mark + 1
            let forgotten = try await client.sync(
                SyncRequest(replica: tablet.replica, lastSeq: 0, cursor: 3, cursorMark: other, events: []), token: token)
            #expect(forgotten.rewound && forgotten.cursor == 3 && forgotten.events.map(\.id) == batch.map(\.id))
            #expect(forgotten.cursorMark == mark)

            // A cursor past the feed's end holds no row.
            let past = try await client.sync(
                SyncRequest(replica: tablet.replica, lastSeq: 0, cursor: 9, cursorMark: mark, events: []), token: token)
            #expect(past.rewound && past.cursor == 3 && past.events.count == 3)

            // The check reads the row before the push stores: a new row taking the cursor's
            // position carries the push's own mark, not the one the device saw.
            let late = try tablet.make(.lessonCompleted(lesson: "keep-secure"))
            let racing = try await client.sync(
                SyncRequest(replica: tablet.replica, lastSeq: tablet.seq, cursor: 4, cursorMark: mark, events: [late]), token: token)
            #expect(racing.rewound, "position 4 is the push's own new row, not the one the device named")
            #expect(racing.events.map(\.id) == batch.map(\.id) && racing.cursor == 4)
            #expect(racing.cursorMark != nil && racing.cursorMark != mark)

            // A device from before marks sends none: its cursor is not checked.
            let unmarked = try await client.sync(SyncRequest(replica: tablet.replica, lastSeq: tablet.seq, cursor: 99, events: []), token: token)
            #expect(!unmarked.rewound && unmarked.events.isEmpty)
        }
    }
}

/// The server attests every alias it sends; an attestation sent back with a guest's events makes
/// again an attachment the server no longer holds, and a forged one makes nothing.
@Suite struct AliasAttestationTests {
    @Test(arguments: StoreKind.all) func onlyTheServersOwnAttestationAttachesAGuest(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (account, token) = try await client.signUp("attests")
            // A guest this server never attached: a forged proof attaches nothing.
            var guest = EventFactory(learner: .newGuest())
            let event = try guest.make(.lessonCompleted(lesson: "keep-secure"))
            let forged = Alias(guest: guest.learner, account: account, proof: "AAAAAAAAAAAAAAAAAAAAAA")
            let refused = try await client.sync(
                SyncRequest(replica: guest.replica, lastSeq: guest.seq, cursor: 0, events: [event], aliases: [forged]), token: token)
            #expect(refused.rejected.map(\.code) == ["foreign-learner"])
            // A proof without its guest and account is a malformed request.
            let malformed = try await client.post(
                "/v1/sync", json: SyncRequest(replica: guest.replica, lastSeq: guest.seq, cursor: 0, events: [event], aliases: [Alias(guest: guest.learner, account: account)]),
                token: token)
            #expect(malformed.status == .badRequest)
        }
    }
}
