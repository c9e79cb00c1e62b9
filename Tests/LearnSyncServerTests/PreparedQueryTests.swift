@testable import LearnSyncPostgres
import Testing

/// Prepared statements are named by their SQL: PostgreSQL keeps one statement per name and
/// connection, so two queries must never share one.
@Suite struct PreparedQueryTests {
    enum First: PreparedQuery { static let sql = "SELECT last_seen_at FROM learner WHERE id = $1" }
    enum Second: PreparedQuery { static let sql = "SELECT last_seen_at FROM learner WHERE id = $1 FOR UPDATE" }
    enum SameAsFirst: PreparedQuery { static let sql = "SELECT last_seen_at FROM learner WHERE id = $1" }

    @Test func namesFollowTheSQL() {
        #expect(Prepared<First>.name != Prepared<Second>.name, "a longer query with the same start")
        #expect(Prepared<First>.name == Prepared<SameAsFirst>.name, "the same query under another type")
        #expect(Prepared<First>.name == Prepared<First>.name)
    }

    @Test func namesFitPostgreSQLsLimit() {
        // PostgreSQL compares the first 63 bytes of a statement name.
        for name in [Prepared<First>.name, Prepared<Second>.name] {
            #expect(name.utf8.count <= 63)
            #expect(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        }
    }
}
