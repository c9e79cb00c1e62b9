public import Foundation
import Synchronization

/// Where live sync stands, for a status line or an indicator
/// (``LearnSyncClient/liveSyncStatus``, ``LearnSyncClient/liveSyncStatuses()``,
/// ``LiveSyncModel``).
public struct LiveSyncStatus: Hashable, Sendable {
    /// The live stream's state.
    public enum Connection: String, Hashable, Sendable {
        /// Live sync is not running (``LearnSyncClient/startSync(_:)`` was not called, or
        /// ``LearnSyncClient/stopSync()`` was).
        case stopped
        /// Opening the stream to the server.
        case connecting
        /// The server tells the device at once when the learner's other devices push.
        case connected
        /// The server cannot be reached, or refused the stream; the device tries again with
        /// backoff, and keeps recording.
        case offline
        /// The transport or the server keeps no stream open: the device syncs every
        /// ``LiveSyncOptions/pollInterval`` instead.
        case polling
    }

    /// The last sync error: its code (nil when it came from the device's own store) and message.
    public struct Failure: Hashable, Sendable {
        public var code: SyncError.Code?
        public var message: String

        public init(code: SyncError.Code?, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var connection: Connection = .stopped
    /// A sync is pushing events recorded on this device.
    public var isUploading = false
    /// A sync is pulling what the learner's other devices pushed.
    public var isDownloading = false
    /// Events recorded here that no server acknowledged yet.
    public var pendingCount = 0
    /// When a sync with the server last finished a round (nil if none ever did).
    public var lastSyncAt: Date?
    /// The last sync's failure; nil once a sync succeeds.
    public var lastError: Failure?

    /// Whether this device ever finished a sync round with its server.
    public var hasSynced: Bool { lastSyncAt != nil }

    public init() {}
}

/// How live sync runs (``LearnSyncClient/startSync(_:)``).
public struct LiveSyncOptions: Sendable {
    /// How long after a recorded event the push starts, gathering what is recorded meanwhile
    /// into the same request (100 ms).
    public var pushDelay: Duration
    /// The first wait after the stream fails; it doubles after each failure in a row, up to
    /// `maxBackoff`, and each wait is drawn at random below it (full jitter), so devices that
    /// lost one server do not come back at once.
    public var baseBackoff: Duration
    public var maxBackoff: Duration
    /// How often to sync when the transport cannot keep a stream open
    /// (``TransportStreamUnsupported``), or the server offers none (30 s).
    public var pollInterval: Duration
    /// Whether to keep the server's live stream open (true): false syncs every `pollInterval`
    /// instead, which costs no open connection (on Linux, FoundationNetworking keeps a core busy
    /// while a stream is open: ``URLSessionTransport/openStream(_:)``).
    public var usesStream: Bool

    public init(
        pushDelay: Duration = .milliseconds(100), baseBackoff: Duration = .milliseconds(500), maxBackoff: Duration = .seconds(30),
        pollInterval: Duration = .seconds(30), usesStream: Bool = true
    ) {
        self.usesStream = usesStream
        self.pushDelay = pushDelay
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.pollInterval = pollInterval
    }
}

/// The client's live sync status and its watchers.
final class LiveStatusHub: Sendable {
    private struct State {
        var status = LiveSyncStatus()
        var next = 0
        var watchers: [Int: AsyncStream<LiveSyncStatus>.Continuation] = [:]
    }

    private let state = Mutex(State())

    var status: LiveSyncStatus { state.withLock { $0.status } }

    /// Changes the status; watchers see it when it differs.
    func update(_ change: (inout LiveSyncStatus) -> Void) {
        let (status, watchers) = state.withLock { state -> (LiveSyncStatus?, [AsyncStream<LiveSyncStatus>.Continuation]) in
            var status = state.status
            change(&status)
            guard status != state.status else { return (nil, []) }
            state.status = status
            return (status, Array(state.watchers.values))
        }
        if let status { for watcher in watchers { watcher.yield(status) } }
    }

    /// The status now, then each change.
    func statuses() -> AsyncStream<LiveSyncStatus> {
        let (stream, continuation) = AsyncStream<LiveSyncStatus>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            state.next += 1
            state.watchers[state.next] = continuation
            continuation.yield(state.status)
            return state.next
        }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) } }
        return stream
    }
}
