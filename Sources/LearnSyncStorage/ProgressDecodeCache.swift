import LearnSyncModels
import Foundation
import LearnSyncMerge

/// Remembers the last progress row decoded (or written) for each (learner, course) with its
/// bytes, so recording an event or reading progress does not parse the same row again. A hit
/// needs the very same bytes, so it can never be stale; one row per key keeps it small.
///
/// Keyed by the row's bytes before, it hashed each row's 700-odd bytes twice per record; now a
/// hit compares them once.
enum ProgressDecodeCache {
    private static let capacity = 64
    private static let entries = Locked<[ProgressWriter.Key: (bytes: Data, progress: CourseProgress)]>([:])

    static func decode(_ data: Data, for key: ProgressWriter.Key) throws -> CourseProgress {
        if let hit = entries.withLock({ $0[key] }), hit.bytes == data { return hit.progress }
        let progress = try CourseProgress(compact: data)
        remember(progress, as: data, for: key)
        return progress
    }

    /// Remembers progress just encoded as `data`: the next record in the course reads these
    /// bytes back and finds them here instead of parsing them.
    static func remember(_ progress: CourseProgress, as data: Data, for key: ProgressWriter.Key) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = (data, progress)
        }
    }
}
