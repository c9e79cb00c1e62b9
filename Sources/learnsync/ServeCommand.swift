import ArgumentParser
import Hummingbird
import LearnSyncServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the sync server on an embedded SQLite database (stops cleanly on Ctrl-C or SIGTERM).")

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The TCP port (0 picks a free one).") var port = 8080
    @Option(help: "The SQLite database file (created if missing).") var database = "./learnsync-server.sqlite"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: ArgumentHelp("Delete guests that never attached to an account after this many days without a sync.", valueName: "days"))
    var guestRetention = 90
    @Option(help: ArgumentHelp("The address learners reach the server at, naming them in xAPI exports (default: http://HOST from the request).", valueName: "url"))
    var publicURL: String?
    @OptionGroup var catalog: CatalogOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard (1...36_500).contains(guestRetention) else { throw ValidationError("--guest-retention must be 1 to 36500 days") }
        if let publicURL { _ = try serverURL(publicURL) }
    }

    func run() async throws {
        var logger = Logger(label: "learnsync.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let host = host
        let app = try await buildApplication(
            configuration: ServerConfiguration(
                host: host, port: port, databasePath: database, guestRetention: .seconds(guestRetention * 86_400),
                publicURL: publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }),
            catalog: try catalog.load(), logger: logger,
            onServerRunning: { [logger] port in logger.notice("LearnSync server listening on http://\(host):\(port)") })
        try await app.runService()
    }
}
