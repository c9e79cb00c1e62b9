import ArgumentParser
import Foundation
import LearnSync

/// Options every device command shares: which device folder, which course catalog.
struct DeviceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The device's data folder (default: $LEARNSYNC_DEVICE, else ~/.learnsync/device).", valueName: "dir"))
    var device: String?

    @OptionGroup var catalog: CatalogOptions

    @Option(help: ArgumentHelp("Seconds one request to the server may take in all; a sync ends within 2 minutes.", valueName: "seconds"))
    var timeout: Double = 30

    /// The device folder, created if missing, and readable by its owner only.
    /// - Throws: `StorageError` (exit 74) for a path that cannot be such a folder (a file, a
    ///   folder under a file, one this user may not create).
    func folder() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? FileManager.default.homeDirectoryForCurrentUser.path
        let path = device ?? environment["LEARNSYNC_DEVICE"] ?? URL(fileURLWithPath: home).appendingPathComponent(".learnsync/device").path
        let url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            // Readable by its owner only, as the store's own files are.
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path)
        } catch {
            throw StorageError(.database, "cannot use \(path) as the device folder: \(error.localizedDescription)", cause: error)
        }
        return url
    }

    /// The device's client, talking to `server` if given, else to the server it synced with last
    /// (checked when it was given: `serverURL(_:insecure:)`).
    func client(server: URL? = nil) async throws -> LearnSyncClient {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be more than 0 and at most 3600 seconds") }
        let path = try folder().appendingPathComponent("device.sqlite").path, catalog = try catalog.load()
        let status = try await LearnSyncClient(path: path, catalog: catalog, server: nil).syncStatus()
        // A token belongs to its server: another server would end the account's session here
        // before it is known whether the new one even answers.
        if let server, status.isSignedIn, !status.syncsWith(server), let current = status.server {
            throw ValidationError("this device is signed in to an account on \(current): sign out first (learnsync logout) to use \(server)")
        }
        return try await LearnSyncClient(path: path, catalog: catalog, server: server ?? status.server, allowInsecureHTTP: true, timeout: timeout)
    }
}

/// Output format for commands that print data.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false
}

/// Parses a server URL option (`--server`, or `option`): `https://`, or `http://` to this machine
/// only unless `insecure`. The scheme is read in any case (`HTTP://` is `http://`).
func serverURL(_ text: String, insecure: Bool = false, option: String = "--server") throws -> URL {
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
        throw ValidationError("\(option) must be an http(s) URL, like http://127.0.0.1:8080")
    }
    do {
        try URLSessionTransport.checkSecure(url, allowInsecureHTTP: insecure)
    } catch {
        throw ValidationError("\(error): use https://, or --insecure to send passwords and tokens in the clear")
    }
    return url
}
