import CoreMetrics
import Metrics
import LearnSyncProtocol
import Foundation

/// The server's own metrics, through swift-metrics: whatever backend the process bootstrapped
/// (`learnsync serve --metrics-port` bootstraps Prometheus); none, they cost next to nothing.
/// Made with the ``SyncService``, after any bootstrap. No label carries a learner, token or id.
struct ServerMetrics: Sendable {
    /// Sync requests answered.
    let syncRounds = Counter(label: "learnsync_sync_rounds_total")
    /// Pushed events the server accepted (new or already held).
    let eventsAccepted = Counter(label: "learnsync_events_accepted_total")
    /// Pushed events refused, by reason.
    let refusals: [RejectionCode: Counter]
    /// Events sent to devices in sync answers.
    let eventsPulled = Counter(label: "learnsync_events_pulled_total")
    /// Sign-ins with a wrong username or password.
    let signInFailures = Counter(label: "learnsync_signin_failures_total")
    /// Password checks and sign-ups refused by the throttles.
    let throttled = Counter(label: "learnsync_throttled_total")
    /// How long a sync takes in the store (the transaction, not the HTTP exchange).
    let syncStoreTime = Timer(label: "learnsync_sync_store_duration_seconds")

    init() {
        refusals = Dictionary(uniqueKeysWithValues: RejectionCode.allCases.map {
            ($0, Counter(label: "learnsync_events_refused_total", dimensions: [("reason", $0.rawValue)]))
        })
    }

    /// One sync answered: `accepted` pushed events stored or held already, `refused` and
    /// `pulled` events, and the store's time.
    func synced(accepted: Int, refused: [Rejection], pulled: Int, storeTime: Duration) {
        syncStoreTime.record(duration: storeTime)
        syncRounds.increment()
        eventsAccepted.increment(by: accepted)
        for rejection in refused {
            if let code = RejectionCode(rawValue: rejection.code) { refusals[code]?.increment() }
        }
        eventsPulled.increment(by: pulled)
    }

    func signInFailed() { signInFailures.increment() }

    func throttledAttempt() { throttled.increment() }
}
