import ArgumentParser
import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

/// Options every device command shares: which device folder, which course catalog.
struct DeviceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The device's data folder (default: $LEARNSYNC_DEVICE, else ~/.learnsync/device).", valueName: "dir"))
    var device: String?

    @OptionGroup var catalog: CatalogOptions

    @Option(help: ArgumentHelp("Seconds one request to the server may take in all; a sync ends within 2 minutes.", valueName: "seconds"))
    var timeout: Double = 30

    /// The device folder, created if missing, and readable by its owner only.
    func folder() throws -> URL {
        let path = device ?? ProcessInfo.processInfo.environment["LEARNSYNC_DEVICE"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".learnsync/device").path
        let url = URL(fileURLWithPath: path, isDirectory: true)
        try PrivateFile.folder(url.path, owned: true)
        return url
    }

    /// The device's client, talking to `server` if given, else to the server it synced with last.
    func client(server: URL? = nil) async throws -> LearnSyncClient {
        let store = try DeviceStore(path: try folder().appendingPathComponent("device.sqlite").path, catalog: try catalog.load())
        let state = try await store.syncState()
        let url = server ?? state.server
        if let server { try await store.setServer(server) }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be more than 0 and at most 3600 seconds") }
        return LearnSyncClient(store: store, transport: url.map { URLSessionTransport(baseURL: $0, timeout: timeout) })
    }
}

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

/// Output format for commands that print data.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false
}

/// Parses a server URL option: `https://`, or `http://` to this machine only unless `insecure`.
func serverURL(_ text: String, insecure: Bool = false) throws -> URL {
    guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
        throw ValidationError("--server must be an http(s) URL, like http://127.0.0.1:8080")
    }
    do {
        try URLSessionTransport.checkSecure(url, allowInsecureHTTP: insecure)
    } catch {
        throw ValidationError("\(error): use https://, or --insecure to send passwords and tokens in the clear")
    }
    return url
}
