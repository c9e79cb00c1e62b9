package import Logging
import LearnSyncModels
import ServiceLifecycle

/// Runs the retention sweep (``SyncService/sweep(guestRetention:)``) at start and then every
/// `interval`, in the server's service group: unattached guests idle past the retention period
/// are deleted with their events, and expired or revoked sessions with them. Stops on graceful
/// shutdown; a failed sweep is logged and tried again at the next interval.
package struct RetentionService: Service {
    let service: SyncService
    let guestRetention: Duration
    let interval: Duration
    let logger: Logger

    package init(service: SyncService, guestRetention: Duration, interval: Duration = .seconds(3600), logger: Logger) {
        self.service = service
        self.guestRetention = guestRetention
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        let retention = guestRetention.wholeMilliseconds
        // A store that cannot be prepared stops the server, which says why: the sweep has
        // nothing to add.
        if let backed = service.store as? any ServiceBackedStore {
            do {
                try await backed.prepare()
            } catch {
                // Waits for the server's shutdown: returning now would read as this service failing.
                try? await gracefulShutdown()
                return
            }
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let report = try await service.sweep(guestRetention: retention)
                if report != SweepReport() {
                    logger.notice(
                        "retention sweep",
                        metadata: ["expiredGuests": "\(report.expiredGuests)", "events": "\(report.events)", "sessions": "\(report.sessions)"])
                }
            } catch is CancellationError {
                return  // the server stopped (or never started) while a sweep ran
            } catch {
                logger.error("retention sweep failed", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // cancelled or shutting down
            }
        }
    }
}
