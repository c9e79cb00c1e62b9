public import Observation
import Synchronization

/// Live sync's status as an observable object: a SwiftUI view that reads ``status`` redraws
/// when it changes.
///
/// ```swift
/// struct SyncBadge: View {
///     let model: LiveSyncModel
///     var body: some View {
///         switch model.status.connection {
///         case .connected: Label("Up to date", systemImage: "checkmark.icloud")
///         case .connecting: Label("Connecting…", systemImage: "icloud")
///         case .offline, .polling: Label("Offline: \(model.status.pendingCount) to send", systemImage: "icloud.slash")
///         case .stopped: EmptyView()
///         }
///     }
/// }
/// ```
@MainActor @Observable
public final class LiveSyncModel {
    /// The status now; it follows ``LearnSyncClient/liveSyncStatuses()``.
    public private(set) var status: LiveSyncStatus
    @ObservationIgnored private let watch = Watch()

    /// Follows `client`'s live sync status until the model is released.
    public init(client: LearnSyncClient) {
        status = client.liveSyncStatus
        let task = Task { [weak self] in
            for await status in client.liveSyncStatuses() {
                guard let self else { return }
                self.status = status
            }
        }
        watch.task.withLock { $0 = task }
    }

    deinit { watch.task.withLock { $0 }?.cancel() }

    /// The task that follows the status, ended with the model.
    private final class Watch: Sendable {
        let task = Mutex<Task<Void, Never>?>(nil)
    }
}
