public import Foundation
import GRDB
package import LearnSyncModels

/// Something the learner must be told about their data on the server, kept until the next one.
public struct DeviceNotice: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// The learner's account (or guest) was erased, here or from another device: the device
        /// removed its data and started over as a new guest.
        case learnerErased = "learner-erased"
        /// The server had deleted this device's guest after its retention period without a
        /// sync: the device registered it again and pushed every event again.
        case guestExpired = "guest-expired"
    }

    public var kind: Kind
    /// When the device learned it.
    public var at: Date
    /// The explanation to show.
    public var message: String

    public init(kind: Kind, at: Date, message: String) {
        self.kind = kind
        self.at = at
        self.message = message
    }
}

extension DeviceStore {
    /// The last notice about the learner's data, if any.
    package func notice() async throws -> DeviceNotice? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT notice, noticeAt FROM syncState WHERE id = 1"),
                  let text: String = row["notice"], let at: Int64 = row["noticeAt"]
            else { return nil }
            let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            guard let kind = DeviceNotice.Kind(rawValue: parts[0]) else { return nil }
            return DeviceNotice(kind: kind, at: Date(timeIntervalSince1970: Double(at) / 1000), message: parts.count > 1 ? parts[1] : "")
        }
    }

    static func store(_ notice: DeviceNotice?, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE syncState SET notice = ?, noticeAt = ? WHERE id = 1",
            arguments: [notice.map { "\($0.kind.rawValue) \($0.message)" }, notice.map { Int64($0.at.timeIntervalSince1970 * 1000) }])
    }

    /// After the server forgot this device's guest (it expired, with a `notice`) or some of its
    /// events (restored from a backup): every event the server had acknowledged goes back to the
    /// outbox and the feed is pulled from the start, so the next sync pushes everything again.
    /// Nothing of the learner's progress changes.
    /// - Returns: how many events went back to the outbox.
    @discardableResult
    package func resendAll(notice: DeviceNotice?) async throws -> Int {
        try await write { db in
            let count = try Self.resendAll(db)
            try db.execute(sql: "UPDATE syncState SET cursor = 0, cursorMark = NULL WHERE id = 1")
            if let notice { try Self.store(notice, db) }
            return count
        }
    }

    /// Every event in the log, by replica and counter (held and refused ones included).
    package func allEvents() async throws -> [ProgressEvent] {
        try await read { db in try EventRow.fetchAll(db, sql: "SELECT \(EventRow.columns) FROM event ORDER BY replica, seq") }
    }

    /// The guest ids this device knows are attached to `account`.
    package func guests(of account: LearnerID) async throws -> [LearnerID] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT guest FROM alias WHERE account = ? ORDER BY guest", arguments: [account.rawValue])
                .map { LearnerID(unchecked: $0) }
        }
    }
}
