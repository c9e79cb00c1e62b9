import ArgumentParser
import Foundation
import LearnSync

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Push pending events and pull new ones until both are done.",
        discussion: """
            With --live the device stays connected until Ctrl-C (or --for seconds), pulling what the \
            learner's other devices push as it happens and printing each change of the status and \
            of progress. Events other commands record on the same device folder meanwhile go at \
            its next sync (a pull, a reconnect) or with `learnsync sync`. It exits as the last \
            sync's failure would when that sync had failed.
            """)

    @OptionGroup var device: DeviceOptions
    @Option(help: "The server URL (remembered for next time; a new server needs a new sign-in).") var server: String?
    @Flag(help: "Allow plain http:// to another host: passwords and tokens cross the network in the clear.") var insecure = false
    @Flag(help: "Stay connected and keep in step until Ctrl-C, printing what changes.") var live = false
    @Option(name: .customLong("for"), help: ArgumentHelp("With --live: stop after this many seconds.", valueName: "seconds")) var duration: Double?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if duration != nil && !live { throw ValidationError("--for needs --live") }
        if let duration, !(duration > 0 && duration <= 86_400) { throw ValidationError("--for must be more than 0 and at most 86400 seconds") }
    }

    func run() async throws {
        let client = try await device.client(server: try server.map { try serverURL($0, insecure: insecure) })
        if live { return try await LiveWatch(client: client, json: output.json).run(for: duration) }
        let bar = isatty(STDOUT_FILENO) == 1 && !output.json ? ProgressBar(pending: try await client.pendingCount()) : nil
        var progress: (@Sendable (SyncReport) -> Void)?
        if let bar { progress = { report in bar.show(report) } }
        let report = try await client.sync(progress: progress)
        bar?.finish()
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

/// A progress line on a terminal, redrawn after every sync round: a bar for the push (the
/// outbox's size is known), counts for the pull (the server's is not).
struct ProgressBar: Sendable {
    let pending: Int
    let width = 30

    func show(_ report: SyncReport) {
        let done = pending == 0 ? width : min(width, report.pushed * width / pending)
        let bar = String(repeating: "#", count: done) + String(repeating: "-", count: width - done)
        FileHandle.standardOutput.write(Data("\r[\(bar)] pushed \(report.pushed)/\(pending), pulled \(report.pulled), round \(report.rounds)".utf8))
    }

    func finish() { FileHandle.standardOutput.write(Data("\n".utf8)) }
}
