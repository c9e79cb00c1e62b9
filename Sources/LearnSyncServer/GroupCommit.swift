package import GRDB
import LearnSyncModels
import LearnSyncSQLite

/// Runs small write jobs from many concurrent requests in shared transactions (group commit).
///
/// A job that throws rolls back alone; one `COMMIT` then makes the whole group durable, and
/// only after it does any caller resume. Under load this turns one commit (and one trip to the
/// writer's queue) per request into one per group. A group runs the jobs that queued while the
/// previous group ran; after each group the drain is queued behind the writer's other work
/// again, so a stream of syncs does not starve sign-ups and sign-ins.
///
/// A group first runs its jobs one after the other in one transaction. Should one throw, that
/// transaction rolls back and the group runs again with each job in its own savepoint, so only
/// the failing job's work is undone: a job must be safe to run twice (its work is its
/// statements; what it returns is kept from its last run). Jobs rarely throw, and a savepoint
/// per job (two statements more) was a tenth of a small sync's time on the writer.
package final class GroupCommit: Sendable {
    private let writer: any DatabaseWriter
    private let queue = Locked(Queue())

    private struct Queue {
        var jobs: [Job] = []
        var draining = false
    }

    private struct Job: Sendable {
        /// Runs the job's work inside the group's transaction and keeps its value; throws what
        /// the work throws.
        let run: @Sendable (Database) throws -> Void
        /// Runs the job's work in a savepoint of the group's transaction and keeps its outcome.
        let runApart: @Sendable (Database) -> Void
        /// Resumes the caller: with the job's outcome, or with the commit's error.
        let finish: @Sendable ((any Error)?) -> Void
    }

    /// A job of the optimistic run threw: the group runs again, each job apart.
    private struct JobFailed: Error {}

    /// The outcome of one job, written on the writer's queue and read after the commit.
    private final class Outcome<T: Sendable>: Sendable {
        let result = Locked<Result<T, any Error>?>(nil)
    }

    package init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in the next group's transaction and returns its result once that transaction
    /// has committed. `work` may run twice (see the type's discussion): its effects must be its
    /// statements alone.
    package func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            let job = Job(
                run: { db in
                    let value: T
                    do {
                        value = try work(db)
                    } catch {
                        throw JobFailed()
                    }
                    outcome.result.withLock { $0 = .success(value) }
                },
                runApart: { db in
                    let result = Result { () throws -> T in
                        // Cached statements: GRDB's `inSavepoint` parses its SQL every time.
                        try db.cachedStatement(sql: "SAVEPOINT job").execute()
                        do {
                            let value = try work(db)
                            try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
                            return value
                        } catch {
                            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT job").execute()
                            try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
                            throw error
                        }
                    }
                    outcome.result.withLock { $0 = result }
                },
                finish: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome.result.withLock { $0! })
                    }
                })
            let startDrain = queue.withLock { queue in
                queue.jobs.append(job)
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            if startDrain { drain() }
        }
    }

    /// Runs every queued job in one transaction on the writer's queue, then queues itself
    /// again if more jobs arrived meanwhile.
    private func drain() {
        writer.asyncWriteWithoutTransaction { db in
            let group = self.queue.withLock { queue in
                defer { queue.jobs.removeAll(keepingCapacity: true) }
                return queue.jobs
            }
            do {
                do {
                    try db.immediateTransaction { for job in group { try job.run(db) } }
                } catch is JobFailed {
                    try db.immediateTransaction { for job in group { job.runApart(db) } }
                }
                for job in group { job.finish(nil) }
            } catch {
                for job in group { job.finish(error) }
            }
            let again = self.queue.withLock { queue in
                if queue.jobs.isEmpty { queue.draining = false }
                return queue.draining
            }
            if again { self.drain() }
        }
    }
}
