import Foundation
import GRDB
package import LearnSyncMerge
package import LearnSyncModels

extension DeviceStore {
    /// The current learner's merged progress in a course (empty if nothing was recorded).
    /// Reads one materialized row; it does not replay the log.
    package func progress(in course: CourseID) async throws -> CourseProgress {
        try await read { db in
            try Self.fetchProgress(db, learner: Self.currentRoot(db), course: course)
        }
    }

    /// The current learner's progress in every course of the catalog, in catalog order.
    package func allProgress() async throws -> [CourseProgress] {
        let courses = catalog.courses.map(\.id)
        return try await read { db in
            let learner = try Self.currentRoot(db)
            return try courses.map { try Self.fetchProgress(db, learner: learner, course: $0) }
        }
    }

    /// Yields the current learner's progress in a course now and after every change to it.
    ///
    /// ```swift
    /// for try await progress in store.observeProgress(in: "customer-privacy") {
    ///     render(progress)
    /// }
    /// ```
    package func observeProgress(in course: CourseID) -> AsyncThrowingStream<CourseProgress, any Error> {
        let observation = ValueObservation
            .tracking { db in try Self.fetchProgress(db, learner: Self.currentRoot(db), course: course) }
            .removeDuplicates()
        let values = observation.values(in: writer)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await value in values { continuation.yield(value) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: StorageError(.database, "observing progress failed", cause: error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Every event in the log for a course, of every learner id the current learner includes,
    /// ordered by ``EventKey``.
    package func events(in course: CourseID) async throws -> [ProgressEvent] {
        try await read { db in
            let learner = try Self.currentRoot(db)
            let members = try ProgressWriter.loadAliases(db).members(of: learner)
            let placeholders = members.map { _ in "?" }.joined(separator: ",")
            return try EventRow.fetchAll(
                db,
                sql: "SELECT \(EventRow.columns) FROM event WHERE course = ? AND learner IN (\(placeholders))",
                arguments: StatementArguments([course.rawValue] + members.map(\.rawValue))
            ).sorted { $0.key < $1.key }
        }
    }

    /// Rebuilds every materialized progress row from the event log. Progress kept incrementally
    /// must equal this; it also repairs progress after the catalog changed.
    package func rebuildProgress() async throws {
        let catalog = catalog
        try await write { db in
            var writer = try ProgressWriter(db: db, catalog: catalog)
            try writer.rebuild(learner: Self.currentRoot(db))
            try writer.flush()
        }
    }

    static func fetchProgress(_ db: Database, learner: LearnerID, course: CourseID) throws -> CourseProgress {
        let statement = try db.cachedStatement(sql: "SELECT state FROM progress WHERE learner = ? AND course = ?")
        guard let data = try Data.fetchOne(statement, arguments: [learner.rawValue, course.rawValue]) else {
            return CourseProgress(course: course)
        }
        return try ProgressDecodeCache.decode(data, for: ProgressWriter.Key(learner: learner, course: course))
    }
}
