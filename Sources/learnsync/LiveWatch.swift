import ArgumentParser
import Dispatch
import Foundation
import LearnSync
import LearnSyncModels

/// `learnsync sync --live`: runs live sync and prints each change of its status and of the
/// learner's progress, until Ctrl-C or the duration.
struct LiveWatch: Sendable {
    let client: LearnSyncClient
    let json: Bool

    func run(for duration: Double?) async throws {
        try client.startSync()
        // Ctrl-C ends the watch (and the process keeps its exit code 0): the stream is closed
        // and the sync under way finishes first.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT)
        let (interrupts, sink) = AsyncStream<Void>.makeStream()
        interrupt.setEventHandler { sink.yield() }
        interrupt.resume()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await printStatuses() }
            for course in client.catalog.courses { group.addTask { await printProgress(course) } }
            group.addTask { for await _ in interrupts { return } }
            if let duration { group.addTask { try? await Task.sleep(for: .milliseconds(Int64(duration * 1000))) } }
            await group.next()
            group.cancelAll()
        }
        interrupt.cancel()
        let last = client.liveSyncStatus
        await client.stopSync()
        emit(json ? #"{"connection":"stopped"}"# : "live: stopped")
        // The watch ended while the last sync had failed: exit as that sync's failure would.
        if let failure = last.lastError {
            if let code = failure.code { throw SyncError(code, failure.message) }
            throw ExitCode(ExitCodes.storage)
        }
    }

    /// Writes a line at once, also into a file or a pipe (`print` holds it in a buffer there): a
    /// watch ended by a signal keeps what it printed.
    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// A status line for `--json`.
    private struct StatusLine: Encodable {
        var connection: String
        var pending: Int
        var uploading: Bool
        var downloading: Bool
        var lastSyncAt: String?
        var error: String?
        var errorCode: String?
    }

    private func printStatuses() async {
        for await status in client.liveSyncStatuses() {
            if json {
                let line = StatusLine(
                    connection: status.connection.rawValue, pending: status.pendingCount, uploading: status.isUploading,
                    downloading: status.isDownloading, lastSyncAt: status.lastSyncAt.map { ISO8601DateFormatter().string(from: $0) },
                    error: status.lastError?.message, errorCode: status.lastError?.code.map { "\($0)" })
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                if let data = try? encoder.encode(line) { emit(String(decoding: data, as: UTF8.self)) }
            } else {
                var text = "live: \(status.connection.rawValue), \(status.pendingCount) pending"
                if status.isUploading { text += ", uploading" }
                if status.isDownloading { text += ", downloading" }
                if let at = status.lastSyncAt { text += ", last sync \(ISO8601DateFormatter().string(from: at))" }
                if let error = status.lastError { text += ", error: \(error.code.map { "\($0): " } ?? "")\(error.message)" }
                emit(text)
            }
        }
    }

    /// Prints a course's progress each time its events change (pulled from another device, or
    /// recorded here).
    private func printProgress(_ course: Course) async {
        var seen: Int?
        do {
            for try await progress in client.observeProgress(in: course.id) {
                defer { seen = progress.eventCount }
                guard seen != nil, progress.eventCount != seen else { continue }
                let done = course.lessons.filter { progress.status(of: $0.id) == .completed }.count
                let certificate = progress.certificate(for: course).isEarned ? ", certificate earned" : ""
                emit(json
                    ? #"{"course":"\#(course.id)","events":\#(progress.eventCount),"lessonsCompleted":\#(done)}"#
                    : "progress: \(course.id): \(progress.eventCount) events, \(done)/\(course.lessons.count) lessons completed\(certificate)")
            }
        } catch {
            emit("progress: \(course.id): \(error)")
        }
    }
}
