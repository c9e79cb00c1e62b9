import Foundation
import Hummingbird
import LearnSyncModels
import LearnSyncProtocol
import NIOCore
import ServiceLifecycle
import Synchronization

/// A live stream's start: whose token, until when, and where the feed ends now.
struct LiveStart: Sendable {
    let tokenHash: String
    let expiresAt: Int64
    let feedEnd: Int64
    let subscription: LiveFeeds.Subscription
}

extension SyncService {
    /// Opens a live stream for a token (`GET /v1/live`).
    /// - Throws: `Problem` `unauthorized` or `learner-erased`.
    func openLiveStream(authorization: String?) async throws -> LiveStart {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        let session = try await session(tokenHash: tokenHash)
        guard let feed = try await store.learnerEvents(
            tokenHash: tokenHash, now: clock.millisecondsSince1970(), after: 0, through: 0, limit: 0)
        else { throw try await refusal(forToken: tokenHash) }
        let subscription = try live.subscribe(root: feed.learner, learner: session.learner, tokenHash: tokenHash)
        return LiveStart(tokenHash: tokenHash, expiresAt: session.expiresAt, feedEnd: feed.feedEnd, subscription: subscription)
    }

    /// Why a stream's token no longer authenticates (nil: it still does): past its expiry, or,
    /// when `askingStore` (a revocation may concern it), no longer a live session. A heartbeat
    /// asks only the clock: idle streams cost the database nothing.
    func liveRefusal(tokenHash: String, expiresAt: Int64, askingStore: Bool) async throws -> Problem? {
        if clock.millisecondsSince1970() >= expiresAt { return Self.unknownToken }
        guard askingStore else { return nil }
        if try await store.session(tokenHash: tokenHash, now: clock.millisecondsSince1970()) != nil { return nil }
        return try await refusal(forToken: tokenHash)
    }

    /// `GET /v1/live`'s answer: a `feed` event now, then one each time a push grows the feed, a
    /// heartbeat comment when the shared heartbeat ticks, and an `end` event (a problem) when the
    /// token expires, is revoked or its learner is erased. The stream also ends when the server
    /// shuts down gracefully; the device opens another.
    func liveResponse(_ start: LiveStart) -> Response {
        let live = live
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { body in
                defer { live.unsubscribe(start.subscription) }
                try await body.write(Self.feedEvent(FeedChanged(feedEnd: start.feedEnd, replica: nil)))
                for await _ in start.subscription.wakes.cancelOnGracefulShutdown() {
                    let pending = live.take(start.subscription)
                    if let problem = try await liveRefusal(tokenHash: start.tokenHash, expiresAt: start.expiresAt, askingStore: pending.recheck) {
                        try await body.write(ByteBuffer(string: ServerSentEvent(event: "end", data: String(decoding: try problem.wireEncoded(), as: UTF8.self)).encoded))
                        break
                    }
                    if let feed = pending.feed {
                        try await body.write(Self.feedEvent(FeedChanged(feedEnd: feed.end, replica: feed.replica)))
                    } else if pending.heartbeat {
                        try await body.write(ByteBuffer(string: ServerSentEvent.heartbeat))
                    }
                }
                try await body.finish(nil)
            })
    }

    private static func feedEvent(_ change: FeedChanged) throws -> ByteBuffer {
        ByteBuffer(string: ServerSentEvent(event: "feed", data: String(decoding: try change.wireEncoded(), as: UTF8.self), id: "\(change.feedEnd)").encoded)
    }
}

/// With a database shared by several server processes: tells the others of this process's
/// notices, a batch at a time, and wakes this process's live streams for every process's (when
/// the store hears them).
struct LiveFollower: Service {
    let store: any ServiceBackedStore
    let live: LiveFeeds
    let announcer: LiveAnnouncer

    func run() async throws {
        let (store, live, announcer) = (store, live, announcer)
        await withTaskGroup(of: Void.self) { group in
            if store.hearsLiveNotices { group.addTask { await store.followLiveNotices { notice in live.apply(notice) } } }
            group.addTask { await announcer.run(store, fallback: live) }
            await group.next()
            group.cancelAll()
        }
    }
}

/// This process's live notices on their way to a shared database, gathered while the last batch
/// is told: a push never waits for them, and never notifies inside its own transaction.
package final class LiveAnnouncer: Sendable {
    private let pending = Mutex<[LiveNotice]>([])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    package init() {
        (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `notice` to be told.
    package func post(_ notice: LiveNotice) {
        pending.withLock { $0.append(notice) }
        wake.yield()
    }

    /// Tells the queued notices until cancelled or the server shuts down. A batch that cannot be
    /// told wakes this process's streams at least (`fallback`): the other processes' devices
    /// get the change at their next sync.
    func run(_ store: any ServiceBackedStore, fallback: LiveFeeds) async {
        for await _ in wakes.cancelOnGracefulShutdown() {
            let batch = pending.withLock { pending in
                defer { pending = [] }
                return pending
            }
            do {
                try await store.tell(batch)
            } catch {
                for notice in batch { fallback.apply(notice) }
            }
        }
    }
}

extension SyncService {
    /// Tells the live streams of `notice`: those of every process sharing the database, or this
    /// process's when it is the only one. Best effort: the change is committed already, and a
    /// stream that misses it is told at its device's next sync (a push), at the token's expiry or
    /// the server's restart (a revocation).
    func announce(_ notice: LiveNotice) {
        // A process that does not hear every notice wakes its own streams itself.
        if !liveNotices.hears { live.apply(notice) }
        if liveNotices.tells { announcer.post(notice) }
    }
}

/// Wakes every live stream of the process for a heartbeat at a fixed interval: one timer for
/// all of them, however many are open.
struct LiveHeartbeat: Service {
    let live: LiveFeeds
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // cancelled or shutting down
            }
            live.heartbeat()
        }
    }
}
