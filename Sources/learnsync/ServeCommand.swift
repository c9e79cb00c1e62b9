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
    @OptionGroup var catalog: CatalogOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        var logger = Logger(label: "learnsync.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let host = host
        let app = try await buildApplication(
            configuration: ServerConfiguration(host: host, port: port, databasePath: database),
            catalog: try catalog.load(), logger: logger,
            onServerRunning: { [logger] port in logger.notice("LearnSync server listening on http://\(host):\(port)") })
        try await app.runService()
    }
}
