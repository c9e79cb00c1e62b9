import Foundation
import GRDB
package import LearnSyncModels
import Synchronization

extension DeviceStore {
    /// Stores the course versions a server serves (`GET /v1/catalog`) beside the bundled
    /// catalog, and rebuilds progress when the merged catalog changed: events pulled for courses,
    /// items or versions this device did not know now count. Versions the server served before
    /// and serves no more are kept: attempts answered under them stay graded under them.
    package func storeServerCatalog(_ server: Catalog) async throws {
        let fingerprint = server.fingerprint
        let data = try server.allVersions.map { course in (course, try JSONEncoder().encode(course)) }
        let (before, merged) = catalogs.withLock { state in
            let before = state.merged
            // The server's copy of a version replaces an earlier copy of it.
            state.server = state.server.map { server.merging($0) } ?? server
            return (before, state.merged)
        }
        try await write { db in
            for (course, json) in data {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO serverCourse (id, version, json) VALUES (?, ?, ?)",
                    arguments: [course.id.rawValue, course.version, json])
            }
            try db.execute(sql: "UPDATE syncState SET fetchedCatalog = ? WHERE id = 1", arguments: [fingerprint])
            // A server serving what the app bundles (the usual first sync) changes no progress.
            if merged != before { try Self.rebuildAll(catalog: merged, db) }
        }
    }

    /// Replaces the app's bundled catalog (the app was updated) and rebuilds progress. The
    /// versions the app bundled before stay known.
    package func setBundledCatalog(_ bundled: Catalog) async throws {
        let previous = catalogs.withLock { $0.bundled }
        try await write { db in
            try Self.archiveBundled(previous, db)
            try Self.archiveBundled(bundled, db)
        }
        let archived = try await read { db in try Self.storedBundledCatalog(db) }
        let (before, merged) = catalogs.withLock { state in
            let before = state.merged
            state.bundled = bundled
            state.archived = archived
            return (before, state.merged)
        }
        if merged != before { try await write { db in try Self.rebuildAll(catalog: merged, db) } }
    }

    /// Course versions that a server serves with other content than the app bundled (an answer
    /// key or rule changed without a new version number). The server's copy grades on this
    /// device, as on the server and every other device; the app's copy is not used.
    package func catalogConflicts() -> [CatalogConflict] {
        catalogs.withLock { $0.conflicts }
    }

    /// Keeps every version of `bundled` (a later copy of the same version replaces an earlier
    /// one), unless this bundle was kept already.
    static func archiveBundled(_ bundled: Catalog, _ db: Database) throws {
        let fingerprint = bundled.fingerprint
        guard try String.fetchOne(db, sql: "SELECT bundledCatalog FROM device WHERE id = 1") != fingerprint else { return }
        let encoder = JSONEncoder()
        for course in bundled.allVersions {
            try db.execute(
                sql: "INSERT OR REPLACE INTO bundledCourse (id, version, json) VALUES (?, ?, ?)",
                arguments: [course.id.rawValue, course.version, try encoder.encode(course)])
        }
        try db.execute(sql: "UPDATE device SET bundledCatalog = ? WHERE id = 1", arguments: [fingerprint])
    }

    static func storedBundledCatalog(_ db: Database) throws -> Catalog? {
        let rows = try Data.fetchAll(db, sql: "SELECT json FROM bundledCourse ORDER BY id, version")
        guard !rows.isEmpty else { return nil }
        let decoder = JSONDecoder()
        return try Catalog(rows.map { try decoder.decode(Course.self, from: $0) })
    }

    /// Rebuilds every progress row under `catalog`, and notes its fingerprint.
    static func rebuildAll(catalog: Catalog, _ db: Database) throws {
        var progress = try ProgressWriter(db: db, catalog: catalog)
        try progress.rebuild(learner: currentRoot(db))
        try progress.flush()
        try db.execute(sql: "UPDATE device SET progressCatalog = ? WHERE id = 1", arguments: [catalog.fingerprint])
    }

    /// Rebuilds the progress rows when they were built under another catalog than `catalog`
    /// (the app was updated with another bundled catalog, or the file predates the note).
    static func rebuildIfCatalogChanged(_ catalog: Catalog, _ db: Database) throws {
        let built = try String.fetchOne(db, sql: "SELECT progressCatalog FROM device WHERE id = 1")
        if built != catalog.fingerprint { try rebuildAll(catalog: catalog, db) }
    }

    static func storedServerCatalog(_ db: Database) throws -> Catalog? {
        let rows = try Data.fetchAll(db, sql: "SELECT json FROM serverCourse ORDER BY id, version")
        guard !rows.isEmpty else { return nil }
        let decoder = JSONDecoder()
        return try Catalog(rows.map { try decoder.decode(Course.self, from: $0) })
    }
}
