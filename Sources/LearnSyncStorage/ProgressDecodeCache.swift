import Foundation
import LearnSyncMerge
import Synchronization

/// Remembers recently decoded (or written) progress rows by their bytes, so recording an event
/// or reading progress does not parse the same row again. Keyed by content, so it can never be
/// stale.
enum ProgressDecodeCache {
    private static let capacity = 64
    private static let entries = Mutex<[Data: CourseProgress]>([:])

    static func decode(_ data: Data) throws -> CourseProgress {
        if let hit = entries.withLock({ $0[data] }) { return hit }
        let progress = try CourseProgress(compact: data)
        remember(progress, as: data)
        return progress
    }

    /// Remembers progress just encoded as `data`: the next record in the course reads these
    /// bytes back and finds them here instead of parsing them.
    static func remember(_ progress: CourseProgress, as data: Data) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[data] = progress
        }
    }
}
