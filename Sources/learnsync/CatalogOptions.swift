import ArgumentParser
import Foundation
import LearnSync
import LearnSyncTestSupport

/// Where the course catalog comes from.
struct CatalogOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A course JSON file or a folder of them (default: $LEARNSYNC_CATALOG, else the sample course).", valueName: "path"))
    var catalog: String?

    func load() throws -> Catalog {
        if let path = catalog ?? ProcessInfo.processInfo.environment["LEARNSYNC_CATALOG"] {
            return try Catalog.load(from: URL(fileURLWithPath: path))
        }
        return try SampleCatalog.load()
    }
}
