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
        await client.stopSync()
        print(json ? #"{"connection":"stopped"}"# : "live: stopped")
    }

    private func printStatuses() async {
        for await status in client.liveSyncStatuses() {
            if json {
                let line: [String: String] = [
                    "connection": status.connection.rawValue, "pending": "\(status.pendingCount)",
                    "uploading": "\(status.isUploading)", "downloading": "\(status.isDownloading)",
                    "lastSyncAt": status.lastSyncAt.map { ISO8601DateFormatter().string(from: $0) } ?? "",
                    "error": status.lastError.map { "\($0.code.map { "\($0): " } ?? "")\($0.message)" } ?? "",
                ]
                if let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) { print(String(decoding: data, as: UTF8.self)) }
            } else {
                var text = "live: \(status.connection.rawValue), \(status.pendingCount) pending"
                if status.isUploading { text += ", uploading" }
                if status.isDownloading { text += ", downloading" }
                if let at = status.lastSyncAt { text += ", last sync \(ISO8601DateFormatter().string(from: at))" }
                if let error = status.lastError { text += ", error: \(error.code.map { "\($0): " } ?? "")\(error.message)" }
                print(text)
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
                print(json
                    ? #"{"course":"\#(course.id)","events":\#(progress.eventCount),"lessonsCompleted":\#(done)}"#
                    : "progress: \(course.id): \(progress.eventCount) events, \(done)/\(course.lessons.count) lessons completed\(certificate)")
            }
        } catch {
            print("progress: \(course.id): \(error)")
        }
    }
}
