import ArgumentParser
import Foundation
import LearnSync

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the device's learner, server, pending outbox, refused events and last sync.")

    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions

    struct Status: Encodable {
        var learner: String
        var isGuest: Bool
        var replica: String
        var server: String?
        var signedIn: Bool
        var pending: Int
        var rejected: [Refused]
        var lastSync: String?
        /// What the learner must be told about their data on the server, if anything.
        var notice: String?
        /// Course versions the server serves with other content than the app's.
        var catalogConflicts: [String]
    }

    struct Refused: Encodable {
        var event: String
        var code: String
        var reason: String
        /// Pushed again when the server's catalog changes; false when refused for good.
        var willRetry: Bool
    }

    func run() async throws {
        let client = try await device.client()
        let identity = try await client.identity()
        let sync = try await client.syncStatus()
        let status = Status(
            learner: identity.learner.rawValue, isGuest: identity.learner.isGuest, replica: identity.replica.rawValue,
            server: sync.server?.absoluteString, signedIn: sync.isSignedIn,
            pending: sync.pendingCount,
            rejected: try await client.rejectedEvents().map { Refused(event: "\($0.event.id)", code: $0.code, reason: $0.reason, willRetry: $0.willRetry) },
            lastSync: sync.lastSyncAt.map { ISO8601DateFormatter().string(from: $0) },
            notice: try await client.notice().map { "\(ISO8601DateFormatter().string(from: $0.at)): \($0.message)" },
            catalogConflicts: client.catalogConflicts.map(\.description))
        if output.json { return try Output.printJSON(status) }
        print(Output.table(["", ""], [
            ["learner", "\(status.learner) (\(status.isGuest ? "guest" : "account"))"],
            ["replica", status.replica],
            ["server", status.server ?? "none"],
            ["signed in", status.isGuest ? "no (a guest)" : status.signedIn ? "yes" : "no: sign in again (login), or sign out (logout)"],
            ["pending", "\(status.pending)"],
            ["refused", "\(status.rejected.count) (kept on this device and counted in its progress)"],
            ["last sync", status.lastSync ?? "never"],
        ]))
        if let notice = status.notice { print("notice: \(notice)") }
        for conflict in status.catalogConflicts { print("catalog: \(conflict) (the server's copy grades)") }
        for refused in status.rejected {
            let fate = refused.willRetry ? "held until the server's catalog changes" : "refused for good"
            print("refused \(refused.event): \(refused.code): \(refused.reason) (\(fate))")
        }
    }
}
