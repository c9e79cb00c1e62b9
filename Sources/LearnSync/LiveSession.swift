import Foundation
import LearnSyncModels
import Synchronization

/// One run of live sync: what its sync worker is asked to do, and the stream connection that
/// can be cut to reconnect. The stream loop and the worker (``LearnSyncClient``'s `runLive`)
/// share it.
final class LiveSession: Sendable {
    /// What the worker is asked to do, gathered until it looks.
    struct Wants: Equatable {
        /// Events were recorded: push them (after ``LiveSyncOptions/pushDelay``).
        var push = false
        /// A push under this device's own replica id grew the feed to this position: pull only if
        /// the device's cursor is behind it when the worker looks. Its own push's answer usually
        /// brought the cursor there; a clone still recording under the same id did not.
        var ownFeedEnd: Int64?
        /// Sync now, whatever the device holds: the start, a refused stream, another device's
        /// push. A push is not judged by the device's cursor against the event's feed end: a
        /// server restored from a backup holds a feed that ends before the cursor, and only a
        /// pull (its cursor mark) finds that out.
        var sync = false

        mutating func merge(_ other: Wants) {
            push = push || other.push
            ownFeedEnd = [ownFeedEnd, other.ownFeedEnd].compactMap { $0 }.max()
            sync = sync || other.sync
        }

        /// Whether a push waits for more to gather: nothing else is asked for but a check of this
        /// device's own push (which the waiting push answers anyway).
        var isPushOnly: Bool { push && !sync }
    }

    private let wants = Mutex(Wants())
    private let wakeSink: AsyncStream<Void>.Continuation
    /// Yields when something is wanted (wakes coalesce).
    let wakes: AsyncStream<Void>
    /// The task reading the current stream, and whether it was cut to reconnect.
    private let connection = Mutex<(task: Task<Void, any Error>?, cut: Bool)>((nil, false))

    init() {
        (wakes, wakeSink) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the worker for `change`.
    func want(_ change: (inout Wants) -> Void) {
        wants.withLock { change(&$0) }
        wakeSink.yield()
    }

    /// What was wanted since the last look, cleared.
    func take() -> Wants {
        wants.withLock { wants in
            defer { wants = Wants() }
            return wants
        }
    }

    /// Ends the worker's wait for good.
    func finish() { wakeSink.finish() }

    /// Runs `read` as the current connection; returns whether it was cut by ``reconnect()``
    /// rather than ending or failing by itself (which it throws).
    func connect(_ read: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        let task = Task { try await read() }
        connection.withLock { $0 = (task, false) }
        defer { connection.withLock { $0 = (nil, false) } }
        do {
            try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
            return false
        } catch {
            if connection.withLock({ $0.cut }) { return true }
            throw error
        }
    }

    /// Cuts the current stream so that the loop opens another at once (the device's token
    /// changed: signed in, up or out).
    func reconnect() {
        let task = connection.withLock { connection -> Task<Void, any Error>? in
            connection.cut = true
            return connection.task
        }
        task?.cancel()
    }
}
