import Crypto
import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncStorage

/// The stages of the end-to-end sync, each run alone and in turn on the same events, in the
/// protocol's batches and pages: where the time of a full sync goes. The sync itself runs them
/// pipelined on both cores, so its time is not their sum.
struct SyncStages {
    let catalog: Catalog
    let folder: URL

    /// Seconds per stage, in the order of a sync.
    struct Split {
        var encode = 0.0, serverDecode = 0.0, serverInsert = 0.0, serverPages = 0.0, deviceDecode = 0.0, deviceInsert = 0.0
        /// Raw SQLite inserting the same events into the server's table and the device's, with
        /// their indexes: what durable storage at both ends costs without any of the rest.
        var rawInserts = 0.0

        var total: Double { encode + serverDecode + serverInsert + serverPages + deviceDecode + deviceInsert }

        var summary: String {
            String(
                format: "stages alone: device A encode + gzip %.2f s, server inflate + decode %.2f s, server insert %.2f s, "
                    + "server pages (read + encode + gzip) %.2f s, device B inflate + decode %.2f s, device B insert + progress %.2f s; "
                    + "sum %.2f s. Floor: raw SQLite inserts at both ends %.2f s",
                encode, serverDecode, serverInsert, serverPages, deviceDecode, deviceInsert, total, rawInserts)
        }
    }

    func measure(_ events: [ProgressEvent]) async throws -> Split {
        var split = Split()
        let size = ProtocolLimits.maxEventsPerRequest
        let batches = stride(from: 0, to: events.count, by: size).map { Array(events[$0..<min(events.count, $0 + size)]) }

        var bodies = [Data]()
        split.encode = try await Measure.time {
            for batch in batches {
                let body = try WireCoding.encode(SyncRequest(replica: batch[0].id.replica, lastSeq: batch.last!.id.seq, cursor: 0, events: batch))
                bodies.append(ContentCoding.gzip(body) ?? body)
            }
        }
        var requests = [SyncRequest]()
        split.serverDecode = try await Measure.time {
            for body in bodies { requests.append(try WireCoding.decodeRequest(SyncRequest.self, from: Self.inflated(body, limit: ProtocolLimits.maxBodyBytes))) }
        }
        bodies = []

        let store = try SQLiteServerStore(path: folder.appendingPathComponent("stages-\(UUID().uuidString).sqlite").path)
        let service = SyncService(store: store, catalog: catalog, passwordCost: 4)
        _ = try await store.createAccount(events[0].learner, username: "stages", passwordHash: "x", guest: nil, session: .bench("s"))
        split.serverInsert = try await Measure.time {
            for var request in requests {
                // The answer's page is left empty here (a cursor past the feed): pages are the next stage.
                request.cursor = .max - 1
                request.limit = 1
                _ = try await service.sync(request, authorization: "Bearer s")
            }
        }
        requests = []

        var answers = [Data]()
        split.serverPages = try await Measure.time {
            var cursor: Int64 = 0, more = true
            while more {
                let response = try await service.sync(
                    SyncRequest(replica: .random(), lastSeq: 0, cursor: cursor, events: []), authorization: "Bearer s")
                let body = try WireCoding.encode(response)
                answers.append(ContentCoding.gzip(body) ?? body)
                cursor = response.cursor
                more = response.more
            }
        }
        var responses = [SyncResponse]()
        split.deviceDecode = try await Measure.time {
            for answer in answers { responses.append(try WireCoding.decode(SyncResponse.self, from: Self.inflated(answer, limit: ProtocolLimits.maxAnswerBytes))) }
        }
        answers = []
        let device = try DeviceStore(path: folder.appendingPathComponent("stages-\(UUID().uuidString).sqlite").path, catalog: catalog)
        split.deviceInsert = try await Measure.time {
            for response in responses {
                try await device.apply(SyncRoundResult(pushed: [], pulled: response.events, aliases: [], cursor: response.cursor))
            }
        }
        let pulled = responses.reduce(0) { $0 + $1.events.count }
        guard pulled == events.count else { throw BenchError("the stages pulled \(pulled) events, expected \(events.count)") }

        let serverRaw = try RawSQLite(path: folder.appendingPathComponent("stages-raw-\(UUID().uuidString).sqlite").path, server: true)
        let deviceRaw = try RawSQLite(path: folder.appendingPathComponent("stages-raw-\(UUID().uuidString).sqlite").path)
        split.rawInserts = try await Measure.time {
            for batch in batches {
                try serverRaw.insert(batch[...])
                try deviceRaw.insert(batch[...])
            }
        }
        return split
    }

    /// A body as its receiver decodes it: inflated when gzipped, within `limit`.
    private static func inflated(_ body: Data, limit: Int) throws -> Data {
        ContentCoding.looksGzipped(body) ? try ContentCoding.inflate(body, limit: limit) : body
    }
}

extension NewSession {
    /// A session that never expires for the bearer token `token`, made in the store directly.
    static func bench(_ token: String) -> NewSession {
        NewSession(tokenHash: SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined(), createdAt: 0, expiresAt: .max)
    }
}
