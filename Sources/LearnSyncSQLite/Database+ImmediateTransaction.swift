package import GRDB

extension Database {
    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock taken at once, so the
    /// transaction never fails half-way for want of it), committing if it returns and rolling
    /// back if it or the commit throws. The statements are cached: GRDB's `inTransaction` parses
    /// `BEGIN` and `COMMIT` every time, which showed in small syncs and single records.
    package func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        try cachedStatement(sql: "BEGIN IMMEDIATE").execute()
        do {
            let value = try body()
            try cachedStatement(sql: "COMMIT").execute()
            return value
        } catch {
            if isInsideTransaction { try? cachedStatement(sql: "ROLLBACK").execute() }
            throw error
        }
    }
}
