// libFuzzer target for every body the server reads and every answer a device reads (built by
// Tools/fuzz-decoders). An input's first byte picks what the rest is read as (``Reader``):
// - the requests (sync with its events and `seen`, guest registration, sign-up and sign-in,
//   sign-out, erasure, password change), then checked as the server checks them;
// - the answers (sync, session, problem, progress, catalog, export, xAPI);
// - a reset's `seen` text alone, and the bytes as a gzip and a deflate body.
// Whatever reads as one of the reader's messages must write and read back the same. The parts
// of a request that later code computes with (counters, clocks, `seen` runs) go through that
// arithmetic: a trap, an AddressSanitizer report or a failed precondition is a finding.
import Foundation
import LearnSyncModels
import LearnSyncProtocol

/// Decodes `data` as a request of `type`, then writes it and reads it back.
func roundTrip<T: WireMessage & Equatable>(_ type: T.Type, _ data: Data) -> T? {
    guard let value = try? WireCoding.decodeRequest(T.self, from: data) else { return nil }
    precondition(try! WireCoding.decode(T.self, from: try! WireCoding.encode(value)) == value, "\(T.self) does not read back")
    return value
}

/// What the server and the device compute from an event's numbers.
func exercise(_ event: ProgressEvent) {
    _ = XAPIExport.timestamp(event.timestamp.physicalMilliseconds)
    _ = XAPIExport.timestamp(event.timestamp.rawValue)
    guard case .courseReset(let seen) = event.payload else { return }
    precondition((try? SeenEvents(text: seen.text)) == seen, "seen does not read back")
    for (replica, runs) in seen.ranges {
        for run in runs.prefix(4) {
            for seq in [run.lowerBound, run.upperBound, run.lowerBound &- 1, run.upperBound &+ 1] {
                _ = seen.contains(EventID(replica: replica, seq: seq))
            }
        }
        // A device renaming its replica after a pulled reset that names it.
        var renamed = seen
        let moved = Dictionary(uniqueKeysWithValues: runs.prefix(8).map(\.upperBound).enumerated().map { ($1, Int64($0) + 1) })
        renamed.rename(replica, movedTo: ReplicaID(unchecked: "fuzz-renamed"), moved: moved)
    }
}

/// What an input is read as: its first byte picks one reader (so each run pays for one), the
/// rest is the body. Tools/fuzz-decoders seeds the corpus with each file under every first byte.
enum Reader: UInt8, CaseIterable {
    case syncRequest, registerGuest, credentials, signOut, deleteAccount, changePassword
    case syncAnswer, sessionAnswer, problem, progressAnswer, catalogAnswer, lifecycleAnswers, exportDocument, xapi
    case seenText, compressedBody
    case liveStream
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let data = Data(bytes: start + 1, count: count - 1)
    switch Reader(rawValue: start[0] % UInt8(Reader.allCases.count))! {
    // The requests, as the server reads and checks them.
    case .syncRequest:
        if let request = roundTrip(SyncRequest.self, data), (try? request.validate()) != nil { request.events.forEach(exercise) }
    case .registerGuest: _ = try? roundTrip(RegisterGuestRequest.self, data)?.validate()
    case .credentials: _ = try? roundTrip(CredentialsRequest.self, data)?.validate()
    case .signOut: _ = roundTrip(SignOutRequest.self, data)?.everywhere
    case .deleteAccount: _ = try? roundTrip(DeleteAccountRequest.self, data)?.validate()
    case .changePassword: _ = try? roundTrip(ChangePasswordRequest.self, data)?.validate()
    // The answers, as a device reads them.
    case .syncAnswer:
        if let answer = try? WireCoding.decode(SyncResponse.self, from: data) {
            precondition(try! WireCoding.decode(SyncResponse.self, from: try! WireCoding.encode(answer)) == answer, "SyncResponse does not read back")
            answer.events.forEach(exercise)
        }
    case .sessionAnswer: _ = try? WireCoding.decode(SessionResponse.self, from: data)
    case .problem: _ = try? WireCoding.decode(Problem.self, from: data)
    case .progressAnswer: _ = try? WireCoding.decode(ProgressResponse.self, from: data)
    case .catalogAnswer: _ = try? WireCoding.decode(CatalogResponse.self, from: data)
    case .lifecycleAnswers:
        _ = try? WireCoding.decode(SignOutResponse.self, from: data)
        _ = try? WireCoding.decode(DeleteAccountResponse.self, from: data)
    case .exportDocument: (try? WireCoding.decode(ExportDocument.self, from: data))?.events.forEach(exercise)
    case .xapi: _ = try? WireCoding.decode(XAPIStatementResult.self, from: data)
    // A reset's seen text on its own, and compressed bodies.
    case .seenText:
        if let seen = try? SeenEvents(text: String(decoding: data, as: UTF8.self)) {
            exercise(try! ProgressEvent(
                id: EventID(replica: "fuzz", seq: 1), learner: LearnerID.newGuest(), timestamp: HLCTimestamp(rawValue: 1),
                course: "fuzz-course", payload: .courseReset(seen: seen)))
        }
    case .compressedBody: _ = try? ContentCoding.inflate(data, limit: 1 << 20)
    // The live stream as a device reads it: whole, and cut in two anywhere, to the same events.
    case .liveStream:
        var whole = ServerSentEventParser(maxLineBytes: 256), cut = ServerSentEventParser(maxLineBytes: 256)
        let split = data.isEmpty ? 0 : Int(data[data.startIndex]) % (data.count + 1)
        let events = try? whole.read(data)
        let parts = try? cut.read(data.prefix(split)) + cut.read(data.dropFirst(split))
        precondition(events == parts, "a cut stream reads as other events")
        for event in events ?? [] {
            _ = try? WireCoding.decode(FeedChanged.self, from: Data(event.data.utf8))
            _ = try? WireCoding.decode(Problem.self, from: Data(event.data.utf8))
        }
    }
    return 0
}
