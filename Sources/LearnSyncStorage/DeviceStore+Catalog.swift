import Foundation
import GRDB
package import LearnSyncModels
import Synchronization

extension DeviceStore {
    /// Stores the course versions a server serves (`GET /v1/catalog`) beside the bundled
    /// catalog, and rebuilds progress when the merged catalog changed: events pulled for courses,
    /// items or versions this device did not know now count.
    package func storeServerCatalog(_ server: Catalog) async throws {
        let fingerprint = server.fingerprint
        let data = try server.allVersions.map { course in (course, try JSONEncoder().encode(course)) }
        let (before, merged) = catalogs.withLock { state in
            let before = state.merged
            state.server = server
            return (before, state.merged)
        }
        try await write { db in
            try db.execute(sql: "DELETE FROM serverCourse")
            for (course, json) in data {
                try db.execute(
                    sql: "INSERT INTO serverCourse (id, version, json) VALUES (?, ?, ?)",
                    arguments: [course.id.rawValue, course.version, json])
            }
            try db.execute(sql: "UPDATE syncState SET fetchedCatalog = ? WHERE id = 1", arguments: [fingerprint])
            // A server serving what the app bundles (the usual first sync) changes no progress.
            if merged != before { try Self.rebuildAll(catalog: merged, db) }
        }
    }

    /// Replaces the app's bundled catalog (the app was updated) and rebuilds progress.
    package func setBundledCatalog(_ bundled: Catalog) async throws {
        let (before, merged) = catalogs.withLock { state in
            let before = state.merged
            state.bundled = bundled
            return (before, state.merged)
        }
        if merged != before { try await write { db in try Self.rebuildAll(catalog: merged, db) } }
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
