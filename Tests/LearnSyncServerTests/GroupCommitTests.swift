import GRDB
@testable import LearnSyncServer
import Testing

/// Jobs that share a transaction stay apart: a failing job rolls back alone, the others commit.
@Suite struct GroupCommitTests {
    struct Refused: Error, Equatable {
        var job: Int
    }

    @Test func jobsThatAllSucceedCommitOnceEach() async throws {
        let database = try DatabaseQueue()
        try await database.write { db in try db.execute(sql: "CREATE TABLE t (job INTEGER PRIMARY KEY)") }
        let commits = GroupCommit(writer: database)
        // A job run twice without its first run rolled back would hit the primary key.
        let returned = try await withThrowingTaskGroup(of: Int.self) { group in
            for job in 0..<200 {
                group.addTask {
                    try await commits.write { db in
                        try db.execute(sql: "INSERT INTO t (job) VALUES (?)", arguments: [job])
                        return job * 2
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let stored = try await database.read { db in try Int.fetchAll(db, sql: "SELECT job FROM t ORDER BY job") }
        #expect(stored == Array(0..<200))
        #expect(returned.sorted() == (0..<200).map { $0 * 2 })
    }

    @Test func aFailingJobRollsBackAloneAndTheOthersCommit() async throws {
        let database = try DatabaseQueue()
        try await database.write { db in try db.execute(sql: "CREATE TABLE t (job INTEGER PRIMARY KEY)") }
        let commits = GroupCommit(writer: database)
        // 200 concurrent jobs, so that groups hold many; every fifth inserts and then fails.
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for job in 0..<200 {
                group.addTask {
                    do {
                        let stored = try await commits.write { db in
                            try db.execute(sql: "INSERT INTO t (job) VALUES (?)", arguments: [job])
                            if job % 5 == 0 { throw Refused(job: job) }
                            return job
                        }
                        return (stored, true)
                    } catch {
                        #expect(error as? Refused == Refused(job: job))
                        return (job, false)
                    }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let stored = try await database.read { db in try Set(Int.fetchAll(db, sql: "SELECT job FROM t")) }
        #expect(outcomes.count == 200)
        #expect(stored == Set((0..<200).filter { $0 % 5 != 0 }))
        #expect(outcomes.filter(\.value).map(\.key).sorted() == stored.sorted())
    }
}
