import ArgumentParser
import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Push pending events and pull new ones until both are done.")

    @OptionGroup var device: DeviceOptions
    @Option(help: "The server URL (remembered for next time; a new server needs a new sign-in).") var server: String?
    @Flag(help: "Allow plain http:// to another host: passwords and tokens cross the network in the clear.") var insecure = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await device.client(server: try server.map { try serverURL($0, insecure: insecure) })
        let report = try await client.sync()
        if output.json { return try Output.printJSON(SyncReportJSON(report)) }
        if report.guestExpired, let notice = try await client.notice() { print("notice: \(notice.message)") }
        print("synced: \(report.rounds) round(s), pushed \(report.pushed), pulled \(report.pulled), rejected \(report.rejected), retries \(report.retries)")
    }
}

struct SyncReportJSON: Encodable {
    var rounds, pushed, pulled, rejected, retries: Int
    var guestExpired: Bool
    init(_ r: SyncReport) {
        (rounds, pushed, pulled, rejected, retries, guestExpired) = (r.rounds, r.pushed, r.pulled, r.rejected, r.retries, r.guestExpired)
    }
}
