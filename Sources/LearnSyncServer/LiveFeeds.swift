package import LearnSyncModels
package import LearnSyncProtocol
import Synchronization

/// The open live streams (`GET /v1/live`) of this process, by feed root: a push that grows a
/// root's feed wakes each of its streams with the feed's new end, and a revocation wakes the
/// streams it may concern to check their tokens again. A stream costs an entry here and the
/// task that writes it; nothing runs for it while its learner is quiet but the shared heartbeat.
package final class LiveFeeds: Sendable {
    /// What woke a stream since it last looked (``take(_:)``). Wakes coalesce: a stream that
    /// was slow to look sees the newest feed end, and one flag for each other cause.
    package struct Pending: Sendable, Equatable {
        /// The feed's newest end, and the replica whose push made it (nil when pushes of several
        /// replicas came together).
        package struct Feed: Sendable, Equatable {
            package var end: Int64
            package var replica: ReplicaID?
        }

        package var feed: Feed?
        /// A token of the stream's learner may have been revoked: check it again.
        package var recheck = false
        /// Time for a heartbeat.
        package var heartbeat = false
    }

    /// One open stream: `wakes` yields when something is ``Pending`` for it.
    package struct Subscription: Sendable {
        package let id: Int
        package let wakes: AsyncStream<Void>
    }

    private struct Entry {
        let root: LearnerID
        let learner: LearnerID
        let tokenHash: String
        let continuation: AsyncStream<Void>.Continuation
        var pending = Pending()
    }

    private struct State {
        var next = 0
        var entries: [Int: Entry] = [:]
        var byRoot: [LearnerID: Set<Int>] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// The most streams one feed root (an account with its guests, or a guest) holds open in this
    /// process: a learner has a few devices, and each push wakes every stream of its root.
    package static let maxStreamsPerRoot = 16

    /// Opens a stream of `learner`'s token (`tokenHash`), reading `root`'s feed.
    /// - Throws: `Problem` `rate-limited` when the root holds ``maxStreamsPerRoot`` streams.
    package func subscribe(root: LearnerID, learner: LearnerID, tokenHash: String) throws(Problem) -> Subscription {
        let (wakes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int? in
            guard (state.byRoot[root]?.count ?? 0) < Self.maxStreamsPerRoot else { return nil }
            state.next += 1
            state.entries[state.next] = Entry(root: root, learner: learner, tokenHash: tokenHash, continuation: continuation)
            state.byRoot[root, default: []].insert(state.next)
            return state.next
        }
        guard let id else {
            throw Problem(
                code: .rateLimited,
                detail: "this learner holds \(Self.maxStreamsPerRoot) live streams already; close one, or sync without one",
                retryAfter: 60)
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return Subscription(id: id, wakes: wakes)
    }

    private func remove(_ id: Int) {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return }
            state.byRoot[entry.root]?.remove(id)
            if state.byRoot[entry.root]?.isEmpty == true { state.byRoot[entry.root] = nil }
        }
    }

    /// Ends a stream (its writer stopped).
    package func unsubscribe(_ subscription: Subscription) {
        let entry = state.withLock { $0.entries[subscription.id] }
        entry?.continuation.finish()
    }

    /// How many streams are open.
    package var count: Int { state.withLock { $0.entries.count } }

    /// What woke the stream since it last looked, cleared.
    package func take(_ subscription: Subscription) -> Pending {
        state.withLock { state in
            defer { state.entries[subscription.id]?.pending = Pending() }
            return state.entries[subscription.id]?.pending ?? Pending()
        }
    }

    /// `root`'s feed grew to `feedEnd` by a push of `replica`.
    package func feedChanged(root: LearnerID, feedEnd: Int64, replica: ReplicaID) {
        wake(state.withLock { $0.byRoot[root].map(Array.init) ?? [] }) { pending in
            if let feed = pending.feed {
                pending.feed = Pending.Feed(end: max(feed.end, feedEnd), replica: feed.replica == replica ? replica : nil)
            } else {
                pending.feed = Pending.Feed(end: feedEnd, replica: replica)
            }
        }
    }

    /// Tokens of `learner` (and of the guests attached to it) may have been revoked, or the
    /// learner erased: its streams check their tokens again.
    package func recheck(learner: LearnerID) {
        wake(ids { $0.root == learner || $0.learner == learner }) { $0.recheck = true }
    }

    /// The token of `tokenHash` was revoked: its streams check it again, and end.
    package func recheck(tokenHash: String) {
        wake(ids { $0.tokenHash == tokenHash }) { $0.recheck = true }
    }

    /// Wakes the streams `notice` concerns.
    package func apply(_ notice: LiveNotice) {
        switch notice {
        case .feed(let root, let end, let replica): feedChanged(root: root, feedEnd: end, replica: replica)
        case .recheckLearner(let learner): recheck(learner: learner)
        case .recheckToken(let hash): recheck(tokenHash: hash)
        }
    }

    /// Wakes every stream for a heartbeat.
    package func heartbeat() {
        wake(ids { _ in true }) { $0.heartbeat = true }
    }

    private func ids(_ matching: (Entry) -> Bool) -> [Int] {
        state.withLock { state in state.entries.filter { matching($0.value) }.map(\.key) }
    }

    /// Marks the streams `ids` with `change` and wakes them.
    private func wake(_ ids: [Int], _ change: (inout Pending) -> Void) {
        let continuations = state.withLock { state in
            ids.compactMap { id -> AsyncStream<Void>.Continuation? in
                guard state.entries[id] != nil else { return nil }
                change(&state.entries[id]!.pending)
                return state.entries[id]!.continuation
            }
        }
        for continuation in continuations { continuation.yield() }
    }
}
