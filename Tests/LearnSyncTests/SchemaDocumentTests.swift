import Foundation
import GRDB
import LearnSyncServer
import LearnSyncStorage
import LearnSyncTestSupport
import LearnSyncTesting
import Testing

/// docs/SCHEMA.md is made from fresh databases of each store after every migration: the device's
/// and the server's SQLite files as SQLite keeps their `CREATE` statements, PostgreSQL's tables
/// and indexes as its catalog lists them. The test fails when the page differs;
/// `LEARNSYNC_UPDATE_SCHEMA=1` writes the page instead. Without PostgreSQL
/// (`LEARNSYNC_SKIP_POSTGRES=1`) its section is left as the page has it.
@Suite struct SchemaDocumentTests {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/SCHEMA.md").standardized

    @Test func theSchemaPageIsTheStoresSchema() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let devicePath = folder.appendingPathComponent("device.sqlite").path
        _ = try DeviceStore(path: devicePath, catalog: try SampleCatalog.load())
        let serverPath = folder.appendingPathComponent("server.sqlite").path
        _ = try SQLiteServerStore(path: serverPath)
        let old = (try? String(contentsOf: Self.page, encoding: .utf8)) ?? ""
        let postgres = TestPostgres.isSkipped ? Self.section("PostgreSQL server", of: old) : try await Self.postgresSchema()
        let made = """
            # Schema

            The tables each store creates, after every migration. Made by `SchemaDocumentTests`
            from fresh databases; `LEARNSYNC_UPDATE_SCHEMA=1 swift test --traits Server --filter
            SchemaDocumentTests` writes it again after a migration changes the schema.

            ## Device (SQLite)

            ```sql
            \(try Self.sqliteSchema(devicePath))
            ```

            ## SQLite server

            ```sql
            \(try Self.sqliteSchema(serverPath))
            ```

            ## PostgreSQL server

            \(postgres)

            """
        if ProcessInfo.processInfo.environment["LEARNSYNC_UPDATE_SCHEMA"] == "1" {
            try made.write(to: Self.page, atomically: true, encoding: .utf8)
        }
        #expect(made == old, "docs/SCHEMA.md is not the stores' schema: run LEARNSYNC_UPDATE_SCHEMA=1 swift test --traits Server --filter SchemaDocumentTests")
    }

    /// Every table and index SQLite keeps for the file, as created (the migrations' own table and
    /// SQLite's internal ones left out), in name order.
    static func sqliteSchema(_ path: String) throws -> String {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: """
                SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL
                AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, tbl_name, name
                """)
        }.joined(separator: "\n\n")
    }

    /// PostgreSQL's tables (column, type, nullability, default), indexes and functions, as its
    /// catalog lists them (the migrations' own table left out).
    static func postgresSchema() async throws -> String {
        let running = try await RunningPostgresStore("schema")
        let location = running.location
        let columns = try await TestPostgres.query(location, """
            SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'learnsync_migration'
            ORDER BY table_name, ordinal_position
            """)
        var tables = [(String, [String])]()
        for line in columns.split(separator: "\n") {
            let field = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let column = "    \(field[1]) \(field[2])\(field[3] == "NO" ? " NOT NULL" : "")\(field[4].isEmpty ? "" : " DEFAULT \(field[4])")"
            if tables.last?.0 == field[0] { tables[tables.count - 1].1.append(column) } else { tables.append((field[0], [column])) }
        }
        let indexes = try await TestPostgres.query(location, """
            SELECT indexdef || ';' FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'learnsync_migration'
            ORDER BY tablename, indexname
            """)
        // Functions and procedures by their signature (their bodies are in the migrations).
        let functions = try await TestPostgres.query(location, """
            SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || p.proname || '(' || pg_get_function_arguments(p.oid) || ');' FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace ORDER BY p.proname
            """)
        let body = tables.map { "TABLE \($0.0) (\n\($0.1.joined(separator: ",\n"))\n);" }.joined(separator: "\n\n")
        return "```sql\n\(body)\n\n\(indexes)\n\n\(functions)\n```"
    }

    /// The text under `## title` in `page`, up to the next section or the end.
    static func section(_ title: String, of page: String) -> String {
        guard let start = page.range(of: "## \(title)\n\n") else { return "" }
        let rest = page[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .newlines)
    }
}
