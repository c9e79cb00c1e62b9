import LearnSyncTesting
import Testing

@testable import LearnSyncPostgres

/// Rows copied in `COPY`'s text format (``CopyText``) read back exactly as written, whatever
/// the text holds: a value never ends its column or row early, and NULL stays apart from the
/// text `\N`.
@Suite struct CopyTextTests {
    static let texts: [String?] = [
        "plain", "", nil, "\\N", "tab\there", "line\nbreak", "carriage\rreturn", "back\\slash\\", "\\t is not a tab",
        "ünïcödé 学習 🎓", String(repeating: "long ", count: 2_000), "\t\n\r\\",
    ]
    static let numbers: [Int64?] = [0, 1, -1, 9, 10, -10, nil, Int64.max, Int64.min, 1_767_225_600_000_123]

    @Test(arguments: [StoreKind.postgres, .pgbouncer])
    func copiedRowsReadBackAsWritten(_ kind: StoreKind) async throws {
        let running = try await RunningPostgresStore(#function, throughPooler: kind == .pgbouncer)
        let rows = (0..<max(Self.texts.count, Self.numbers.count)).map { index in
            (Int64(index), Self.texts[index % Self.texts.count], Self.numbers[index % Self.numbers.count])
        }
        let read = try await running.store.withConnection { c in
            try await c.execute("CREATE TABLE copied (n BIGINT PRIMARY KEY, t TEXT, i BIGINT)", logger: running.store.logger)
            // A part a row: each is a write of its own to the copy.
            let parts = rows.map { row in
                var text = CopyText(capacity: 64)
                text.add(row.0)
                text.add(row.1)
                text.add(row.2)
                text.endRow()
                return text
            }
            try await c.copy(parts, into: "copied", columns: ["n", "t", "i"], logger: running.store.logger)
            return try await c.rows("SELECT n, t, i FROM copied ORDER BY n", as: (Int64, String?, Int64?).self, logger: running.store.logger)
        }
        #expect(read.count == rows.count)
        for (back, row) in zip(read, rows) {
            #expect(back.0 == row.0 && back.1 == row.1 && back.2 == row.2, "row \(row.0)")
        }
    }
}
