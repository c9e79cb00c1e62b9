import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import Synchronization

extension LearnSyncClient {
    /// Starts live sync: from now on the device keeps itself in step with the server until
    /// ``stopSync()``. Calling it again while it runs changes nothing.
    ///
    /// While it runs, an event recorded on the device is pushed within
    /// ``LiveSyncOptions/pushDelay`` (a burst goes in a few requests, not one per event); the
    /// server tells the device over a live stream (`GET /v1/live`, Server-Sent Events) as soon as
    /// another device of the learner pushes, and the device pulls. When the network or the server
    /// goes away it tries again with backoff and jitter, and catches up by itself once it is back.
    /// Every sync it runs is a ``sync(progress:)``: they take turns with the app's own calls.
    ///
    /// Watch it with ``liveSyncStatus``, ``liveSyncStatuses()`` or a ``LiveSyncModel``; progress
    /// pulled from other devices reaches ``observeProgress(in:)``.
    ///
    /// ```swift
    /// try client.startSync()
    /// for await status in client.liveSyncStatuses() { print(status.connection) }
    /// ```
    /// - Throws: ``SyncError`` `noServer` when the client has no server.
    public func startSync(_ options: LiveSyncOptions = LiveSyncOptions()) throws {
        let transport = try requireTransport()
        liveRun.withLock { run in
            guard run == nil else { return }
            let session = LiveSession()
            session.want { $0.sync = true }
            let task = Task { await self.runLive(session, transport, options) }
            run = LiveRun(session: session, task: task)
        }
    }

    /// Stops live sync and waits until it has: the stream is closed and no sync it started is
    /// still running. Recording goes on, offline; ``sync(progress:)`` works as before.
    public func stopSync() async {
        guard let run = liveRun.withLock({ run -> LiveRun? in defer { run = nil }; return run }) else { return }
        run.task.cancel()
        run.session.finish()
        await run.task.value
    }

    /// The live sync status now.
    public var liveSyncStatus: LiveSyncStatus { liveStatus.status }

    /// The live sync status now, then each change, until the iteration stops.
    public func liveSyncStatuses() -> AsyncStream<LiveSyncStatus> { liveStatus.statuses() }

    /// Tells live sync that events were recorded (a push follows).
    func liveRecorded() {
        liveRun.withLock { $0?.session }?.want { $0.push = true }
    }

    /// Tells live sync that the device's token changed: the stream opens again with the new one.
    func liveTokenChanged() {
        liveRun.withLock { $0?.session }?.reconnect()
    }

    private func runLive(_ session: LiveSession, _ transport: any SyncTransport, _ options: LiveSyncOptions) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.liveWorker(session, options) }
            group.addTask { await self.liveStream(session, transport, options) }
            await group.next()
            group.cancelAll()
        }
        liveStatus.update { status in
            status.connection = .stopped
            status.isUploading = false
            status.isDownloading = false
        }
    }

    /// Runs the syncs live sync asks for, one at a time.
    private func liveWorker(_ session: LiveSession, _ options: LiveSyncOptions) async {
        for await _ in session.wakes {
            var wants = session.take()
            if wants.isPushOnly {
                // Gathers a burst of recording into one push.
                try? await Task.sleep(for: options.pushDelay)
                wants.merge(session.take())
            }
            guard !Task.isCancelled else { return }
            // An existence check, not a count: counting a long outbox on every wake of a
            // catch-up would cost more than the pushes.
            let pending = (try? await store.hasPending()) ?? false
            let cursor = wants.ownFeedEnd == nil ? 0 : ((try? await store.syncState().cursor) ?? 0)
            let behind = wants.sync || (wants.ownFeedEnd.map { $0 > cursor } ?? false)
            guard pending || behind else { continue }
            liveStatus.update { status in
                status.isUploading = pending
                status.isDownloading = behind
            }
            var failure: LiveSyncStatus.Failure?
            do {
                try await syncRecordedSoFar()
            } catch is CancellationError {
                return
            } catch let error as SyncError {
                failure = LiveSyncStatus.Failure(code: error.code, message: error.message)
            } catch {
                failure = LiveSyncStatus.Failure(code: nil, message: Self.describe(error))
            }
            let state = try? await store.syncState()
            let left = (try? await store.pendingCount()) ?? 0
            // Recorded while the sync ran, or put back in the outbox by its answer: the next push.
            if left > 0 && failure == nil { session.want { $0.push = true } }
            liveStatus.update { status in
                status.isUploading = false
                status.isDownloading = false
                status.pendingCount = left
                status.lastSyncAt = state?.lastSyncAt ?? status.lastSyncAt
                status.lastError = failure
            }
        }
    }

    /// Keeps the live stream open: reads it, asks the worker to pull when another device
    /// pushed, and opens it again after a failure, with backoff and jitter.
    private func liveStream(_ session: LiveSession, _ transport: any SyncTransport, _ options: LiveSyncOptions) async {
        var failures = 0
        while !Task.isCancelled {
            liveStatus.update { $0.connection = .connecting }
            let wait: Duration
            do {
                guard options.usesStream else { throw TransportStreamUnsupported() }
                let cut = try await session.connect { [self] in
                    try await readLiveStream(session, transport, onOpen: { liveStatus.update { $0.connection = .connected } })
                }
                failures = 0
                if cut { continue }
                liveStatus.update { $0.connection = .connecting }
                // The server ended the stream (a graceful shutdown, a refused token): try again
                // soon; a server that is gone fails the next try and backs off.
                wait = Self.jittered(options.baseBackoff)
            } catch is TransportStreamUnsupported {
                liveStatus.update { $0.connection = .polling }
                session.want { $0.sync = true }
                wait = options.pollInterval
            } catch {
                if Task.isCancelled { return }
                failures += 1
                liveStatus.update { $0.connection = .offline }
                wait = Self.jittered(.backoff(after: failures, base: options.baseBackoff, maximum: options.maxBackoff))
            }
            try? await Task.sleep(for: wait)
        }
    }

    /// Opens the stream and reads it until it ends. A refused token (the guest must register
    /// again, the account was erased) is the sync's to handle: the worker runs one.
    private func readLiveStream(_ session: LiveSession, _ transport: any SyncTransport, onOpen: @Sendable () -> Void) async throws {
        guard let token = try store.token() else {
            // Not registered yet: the worker's sync registers the guest.
            session.want { $0.sync = true }
            throw SyncError(.unauthorized, "no token yet")
        }
        let stream = try await transport.openStream(TransportRequest(
            method: Endpoint.live.method, path: Endpoint.live.path,
            headers: ["Authorization": "Bearer \(token)", "Accept": "text/event-stream"], body: Data()))
        switch stream.response.status {
        case 200:
            break
        case 404, 405:
            // A server without live streams: sync at the poll interval instead.
            throw TransportStreamUnsupported()
        case 401, 410:
            session.want { $0.sync = true }
            throw SyncError(.unauthorized, "the server refused the live stream's token")
        default:
            throw URLError(.badServerResponse)
        }
        onOpen()
        let lastByte = LastHeard()
        let silence = Int64(3 * LiveStreamLimits.heartbeatSeconds * 1000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                var parser = ServerSentEventParser()
                for try await chunk in stream.bytes {
                    lastByte.now()
                    for event in try parser.read(chunk) {
                        try await handleLiveEvent(event, session)
                    }
                }
            }
            group.addTask {
                // A connection that went silent for three heartbeats is dead (a peer gone
                // without closing it): it is closed and opened again.
                while true {
                    try await Task.sleep(for: .seconds(1))
                    if lastByte.millisecondsAgo > silence { throw URLError(.timedOut) }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Acts on one event of the stream.
    /// - Throws: ``SyncError`` `unauthorized` for `end`: the stream is over.
    private func handleLiveEvent(_ event: ServerSentEvent, _ session: LiveSession) async throws {
        switch event.event {
        case "feed":
            let change = try WireCoding.decode(FeedChanged.self, from: Data(event.data.utf8))
            if let replica = change.replica, replica == (try? await store.identity().replica) {
                // Most likely this device's own push, whose answer brings the cursor there.
                session.want { $0.ownFeedEnd = max($0.ownFeedEnd ?? 0, change.feedEnd) }
            } else {
                session.want { $0.sync = true }
            }
        case "end":
            // The token expired, was revoked, or its learner erased: the sync says which, and
            // registers the guest again where that is the answer.
            session.want { $0.sync = true }
            throw SyncError(.unauthorized, "the server ended the live stream: its token no longer holds")
        default:
            return
        }
    }

    /// A wait drawn at random up to `limit` (full jitter).
    static func jittered(_ limit: Duration) -> Duration {
        .milliseconds(Int64.random(in: 1...max(1, limit.wholeMilliseconds)))
    }

    static func uptimeMilliseconds() -> Int64 {
        Int64(ProcessInfo.processInfo.systemUptime * 1000)
    }
}

/// When the live stream last sent a byte.
private final class LastHeard: Sendable {
    private let uptime = Atomic<Int64>(LearnSyncClient.uptimeMilliseconds())

    func now() { uptime.store(LearnSyncClient.uptimeMilliseconds(), ordering: .relaxed) }

    var millisecondsAgo: Int64 { LearnSyncClient.uptimeMilliseconds() - uptime.load(ordering: .relaxed) }
}

/// A running live sync: its session and the task that runs it.
struct LiveRun: Sendable {
    let session: LiveSession
    let task: Task<Void, Never>
}
