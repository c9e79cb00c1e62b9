import Foundation
import LearnSyncMerge
import Synchronization

/// Remembers recently decoded progress rows by their bytes, so recording an event or reading
/// progress does not parse the same row again. Keyed by content, so it can never be stale.
enum ProgressDecodeCache {
    private static let capacity = 64
    private static let entries = Mutex<[Data: CourseProgress]>([:])

    static func decode(_ data: Data) throws -> CourseProgress {
        if let hit = entries.withLock({ $0[data] }) { return hit }
        let progress = try CourseProgress(compact: data)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[data] = progress
        }
        return progress
    }
}
