import LearnSyncModels
import LearnSyncTestSupport
import LearnSyncTesting
import Testing

@testable import LearnSyncPostgres

/// A copy whose backend PostgreSQL ends while the parts go out: postgres-nio (1.33) traps,
/// ending the process, on a write, `CopyDone` or `CopyFail` once the connection's state left
/// the copy, and ``GuardedCopyWriter`` keeps every such call away from a closed connection. A
/// trap here ends the test process.
@Suite(.tags(.postgres)) struct GuardedCopyTests {
    /// Copies of 600 one-row parts, each with its backend ended at a random moment: every
    /// copy ends, and none is stored in part.
    @Test func aCopyWhoseBackendEndsMidwayEndsWithoutATrap() async throws {
        let running = try await RunningPostgresStore(#function)
        let logger = running.store.logger
        try await running.store.withConnection { c in
            try await c.execute("CREATE TABLE copied (n BIGINT PRIMARY KEY)", logger: logger)
        }
        let seed = UInt64.random(in: 0...UInt64.max)
        print("GuardedCopyTests seed \(seed)")
        var random = SeededGenerator(seed: seed)
        let rows = 600, copies = 40
        var stored = 0, thrown = 0
        for copy in 0..<copies {
            let delay = Duration.milliseconds(Int.random(in: 0...150, using: &random))
            let ending = Locked<Task<Void, any Error>?>(nil)
            do {
                // In a transaction, as the store copies: a copy alone commits at the `Sync`
                // after its `CommandComplete`, and a backend ended between the two loses rows
                // postgres-nio has reported stored.
                try await running.store.transaction { c in
                    let backend = try await c.value("SELECT pg_backend_pid()", as: Int32.self, logger: logger) ?? 0
                    let location = running.location
                    ending.withLock { $0 = Task {
                        try await Task.sleep(for: delay)
                        _ = try await TestPostgres.query(location, "SELECT pg_terminate_backend(\(backend))")
                    } }
                    let parts = (0..<rows).map { row in
                        var text = CopyText(capacity: 24)
                        text.add(Int64(copy * rows + row))
                        text.endRow()
                        return text
                    }
                    try await c.copy(parts, into: "copied", columns: ["n"], logger: logger)
                }
                stored += 1
            } catch {
                thrown += 1
            }
            _ = await ending.withLock { $0 }?.result
        }
        // Counted by psql, not through the pool, whose connections the test kept ending.
        let counted = try await TestPostgres.query(running.location, "SELECT count(*) FROM copied")
        let count = try #require(Int64(counted), "psql counted \(counted)")
        print("GuardedCopyTests \(stored) copies stored, \(thrown) thrown")
        #expect(stored + thrown == copies)
        #expect(thrown > 0, "no copy met its backend's end")
        // A transaction whose `COMMIT` lost its answer is stored though thrown; none is stored in part.
        #expect(count % Int64(rows) == 0 && count >= Int64(stored * rows), "\(count) rows for \(stored) copies stored")
    }
}
