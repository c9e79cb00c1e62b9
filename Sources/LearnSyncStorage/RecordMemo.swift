import GRDB
import LearnSyncMerge
import LearnSyncModels
import LearnSyncSQLite

/// What the last record left for the next one: the device's identity and clock, the aliases and
/// the progress rows it read or wrote, as they are in the database right after its commit.
///
/// A record reuses it instead of reading those rows only while the database is exactly as that
/// commit left it (the same ``Database/dataVersion``, which any other commit changes, whoever
/// makes it: a sync, a sign-in, another process) and the catalog is the one it graded with.
/// Anything else and the record reads the database, as it would without a memo.
struct RecordMemo: Sendable {
    /// The most progress rows kept: a learner records in one course or a few at a time.
    static let progressCapacity = 16

    var dataVersion: UInt32
    var catalogGeneration: Int
    var replica: ReplicaID
    var learner: LearnerID
    /// The next counter and the latest clock reading, as `DeviceStore.nextSeqSQL` and
    /// `latestHLCSQL` would read them.
    var nextSeq: Int64
    var latestHLC: HLCTimestamp
    var clockOffset: Int64
    var aliases: AliasSet
    var progress: [ProgressWriter.Key: CourseProgress]

    /// Whether the memo describes the database `db` holds now (call inside the record's
    /// transaction, which has seen every other connection's commit) for this catalog.
    func isCurrent(in db: Database, catalogGeneration generation: Int) -> Bool {
        generation == catalogGeneration && db.dataVersion == dataVersion
    }
}
