import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// Attaching a guest moves none of its rows: its own feed shows in the account's at a reserved
/// range. A device must see exactly the feed it saw when rows were moved.
@Suite struct AttachFeedTests {
    /// Random account feeds with guests attached at random moments: reading through the plan,
    /// from every cursor, gives the feed that moving the rows would have made.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64]) func readsMatchMovedRows(seed: UInt64) {
        print("readsMatchMovedRows seed \(seed)")
        var generator = SeededGenerator(seed: seed)
        let account = LearnerID.newAccount()
        // What each design stores: rows per root, and the reference feed with rows moved.
        var stored: [LearnerID: [Int64]] = [account: []]
        var reference: [(root: LearnerID, pos: Int64)] = []
        var mapped: [MappedFeed] = []
        var accountLast: Int64 = 0
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            let own = Int.random(in: 0...5, using: &generator)
            for _ in 0..<own {
                accountLast += 1
                stored[account, default: []].append(accountLast)
                reference.append((account, accountLast))
            }
            let guest = LearnerID.newGuest()
            let count = Int64.random(in: 0...5, using: &generator)
            guard count > 0 else { continue }
            let first = Int64.random(in: 1...3, using: &generator)
            stored[guest] = Array(first..<(first + count))
            let feed = MappedFeed(guest: guest, first: first, last: first + count - 1, after: MappedFeed.lastPosition(own: accountLast, mapped: mapped))
            mapped.append(feed)
            for pos in stored[guest]! { reference.append((guest, pos)) }
            accountLast = MappedFeed.lastPosition(own: accountLast, mapped: mapped)
        }
        let positions = reference.indices.map { index -> Int64 in
            let (root, pos) = reference[index]
            return pos + (mapped.first { $0.guest == root }?.offset ?? 0)
        }
        #expect(positions == positions.sorted() && Set(positions).count == positions.count)
        for cursor in [0] + positions {
            var read: [(LearnerID, Int64)] = []
            for step in MappedFeed.reads(of: account, mapped: mapped.shuffled(using: &generator), after: cursor) {
                for pos in stored[step.root, default: []] where pos > step.after && pos <= step.through { read.append((step.root, pos)) }
            }
            let expected = reference.enumerated().filter { positions[$0.offset] > cursor }.map(\.element)
            #expect(read.map(\.0) == expected.map(\.root) && read.map(\.1) == expected.map(\.pos), "cursor \(cursor)")
        }
    }

    @Test(arguments: StoreKind.all) func attachedGuestsShowInFeedOrderAndGoWithTheAccount(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let service = server.service, clock = server.clock
        try await server.test { client in
            let secret = "a-device-secret-of-enough-length"
            let (account, accountToken) = try await client.signUp("feeds")
            var accountEvents = EventFactory(learner: account)
            func push(_ factory: inout EventFactory, _ count: Int, token: String) async throws -> [EventID] {
                let batch = try (0..<count).map { _ in try factory.make(.lessonStarted(lesson: "keep-secure")) }
                _ = try await client.sync(SyncRequest(replica: factory.replica, lastSeq: factory.seq, cursor: 0, events: batch, limit: 1), token: token)
                return batch.map(\.id)
            }
            func attach(_ guest: LearnerID) async throws {
                let answer = try await client.signIn("feeds", guest: GuestProof(learner: guest, secret: secret))
                #expect(answer.status == .ok)
            }
            var expected = try await push(&accountEvents, 5, token: accountToken)
            let (first, firstToken) = try await client.registerGuest(secret: secret)
            var firstEvents = EventFactory(learner: first)
            let firstIDs = try await push(&firstEvents, 4, token: firstToken)
            let (second, secondToken) = try await client.registerGuest(secret: secret)
            var secondEvents = EventFactory(learner: second)
            let secondIDs = try await push(&secondEvents, 3, token: secondToken)
            // A device of the account that pulled everything before the first attach.
            let before = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: accountToken)

            try await attach(first)
            expected += firstIDs
            expected += try await push(&accountEvents, 2, token: accountToken)
            try await attach(second)
            expected += secondIDs
            expected += try await push(&accountEvents, 1, token: accountToken)

            // A new device pulls it all in pages of 2; the earlier device pulls what followed.
            var pulled: [EventID] = [], cursor: Int64 = 0, more = true
            while more {
                let page = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: cursor, events: [], limit: 2), token: accountToken)
                #expect(page.cursor > cursor || page.events.isEmpty)
                pulled += page.events.map(\.id)
                (cursor, more) = (page.cursor, page.more)
            }
            #expect(pulled == expected)
            let rest = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: before.cursor, events: [], limit: 1000), token: accountToken)
            #expect(rest.events.map(\.id) == Array(expected.dropFirst(5)))
            let export = try await client.get("/v1/export", token: accountToken).decode(ExportDocument.self)
            #expect(export.events.map(\.id) == expected)

            // Erasing the account erases its guests' own feeds too.
            let receipt = try await service.store.erase(account, now: clock.millisecondsSince1970())
            #expect(receipt?.guests == 2 && receipt?.events == 15 && Set(receipt?.guestIDs ?? []).count == 2)
        }
    }
}
