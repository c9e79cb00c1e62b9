package import Foundation
import LearnSyncModels

/// A message with a hand-written JSON form, its only codec: every request is read by the one
/// strict ``JSONReader``, and the sync messages, which carry up to a thousand events each way,
/// are written without Foundation's `JSONEncoder` (a quarter of a sync's CPU time). The golden
/// files pin the form.
package protocol WireMessage: WireCodable {
    /// The message's `protocol` field.
    var version: Int { get }
    /// Reads the message (its version is checked by the caller).
    static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> Self
    func write(to writer: inout JSONWriter)
}

extension JSONReader {
    /// A validated identifier (its error names the rule, never the value).
    mutating func identifier<T: ValidatedIdentifier>(_ type: T.Type) throws(Failure) -> T {
        T(unchecked: try identifierText(kind: T.kind))
    }

    /// A required field's value, or a failure naming the field.
    func required<T>(_ value: T?, _ field: String) throws(Failure) -> T {
        guard let value else { throw fail("missing field \"\(field)\"") }
        return value
    }
}

extension ProgressEvent {
    /// Reads an event; `defaultReplica` stands in for a left-out `replica` field.
    static func read(_ reader: inout JSONReader, replica defaultReplica: ReplicaID?) throws(JSONReader.Failure) -> ProgressEvent {
        var replica = defaultReplica, seq: Int64?, learner: LearnerID?, hlc: Int64?, course: CourseID?, type: String?
        var item: ItemID?, answers: [ItemID]?, choice: ItemID?, seconds: Int?, offset: Int?, version: Int?, seen: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "replica": if try !reader.null() { replica = try reader.identifier(ReplicaID.self) }
            case "seq": seq = try reader.int64()
            case "learner": learner = try reader.identifier(LearnerID.self)
            case "hlc": hlc = try reader.int64()
            case "course": course = try reader.identifier(CourseID.self)
            case "type": type = try reader.string()
            case "item": item = try reader.null() ? nil : reader.identifier(ItemID.self)
            case "answers":
                guard try !reader.null() else { answers = nil; return }
                var list = [ItemID]()
                try reader.array { reader, _ throws(JSONReader.Failure) in list.append(try reader.identifier(ItemID.self)) }
                answers = list
            case "choice": choice = try reader.null() ? nil : reader.identifier(ItemID.self)
            case "seconds": seconds = try reader.null() ? nil : reader.int()
            case "offset": offset = try reader.null() ? nil : reader.int()
            case "version": version = try reader.null() ? nil : reader.int()
            case "seen": seen = try reader.null() ? nil : reader.string()
            default: try reader.skip()
            }
        }
        do {
            let payload = try EventPayload(
                type: try reader.required(type, "type"), item: item, answers: answers, choice: choice, seconds: seconds, offset: offset,
                version: version, seen: seen)
            return try ProgressEvent(
                id: EventID(replica: try reader.required(replica, "replica"), seq: try reader.required(seq, "seq")),
                learner: try reader.required(learner, "learner"), timestamp: HLCTimestamp(rawValue: try reader.required(hlc, "hlc")),
                course: try reader.required(course, "course"), payload: payload)
        } catch let error as ModelError {
            throw reader.fail(error.message)
        } catch let error as JSONReader.Failure {
            throw error
        } catch {
            throw reader.fail("invalid event")
        }
    }

    /// Writes the event; `replica` is left out when `includingReplica` is false.
    func write(to writer: inout JSONWriter, includingReplica: Bool) {
        writer.object { w in
            if includingReplica {
                w.key("replica")
                w.string(id.replica.rawValue)
            }
            w.key("seq")
            w.int(id.seq)
            w.key("learner")
            w.string(learner.rawValue)
            w.key("hlc")
            w.int(timestamp.rawValue)
            w.key("course")
            w.string(course.rawValue)
            w.key("type")
            w.string(payload.type)
            if let item = payload.item {
                w.key("item")
                w.string(item.rawValue)
            }
            switch payload {
            case .quizAttempt(_, let answers, let version):
                w.key("answers")
                w.array { w in for answer in answers { w.string(answer.rawValue) } }
                w.key("version")
                w.int(version)
            case .courseReset(let seen):
                w.key("seen")
                w.string(seen.text)
            case .scenarioChoice(_, let choice):
                w.key("choice")
                w.string(choice.rawValue)
            case .timeSpent(_, let seconds):
                w.key("seconds")
                w.int(seconds)
            case .resumePosition(_, let offset):
                w.key("offset")
                w.int(offset)
            case .lessonStarted, .lessonCompleted:
                break
            }
        }
    }
}

extension SyncRequest: WireMessage {
    package static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> SyncRequest {
        var version: Int?, replica: ReplicaID?, lastSeq: Int64?, cursor: Int64?, limit: Int?, cursorMark: Int64?
        var aliases = [Alias]()
        var events = [ProgressEvent]()
        // Events are read after the object when `replica` follows them (it normally leads).
        var eventsLater: JSONReader?
        var sawEvents = false
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "protocol": version = try reader.int()
            case "replica": replica = try reader.identifier(ReplicaID.self)
            case "lastSeq": lastSeq = try reader.int64()
            case "cursor": cursor = try reader.int64()
            case "cursorMark": cursorMark = try reader.null() ? nil : reader.int64()
            case "limit": limit = try reader.null() ? nil : reader.int()
            case "aliases":
                guard try !reader.null() else { return }
                try reader.array { reader, _ throws(JSONReader.Failure) in aliases.append(try Alias.read(&reader)) }
            case "events":
                sawEvents = true
                if replica == nil {
                    eventsLater = reader
                    try reader.skip()
                } else {
                    events = try readEvents(&reader, replica: replica)
                }
            default: try reader.skip()
            }
        }
        let request = SyncRequest(
            replica: try reader.required(replica, "replica"), lastSeq: try reader.required(lastSeq, "lastSeq"),
            cursor: try reader.required(cursor, "cursor"), cursorMark: cursorMark, events: [],
            limit: limit, aliases: aliases, version: try reader.required(version, "protocol"))
        if var later = eventsLater {
            do {
                events = try readEvents(&later, replica: request.replica)
            } catch {
                throw JSONReader.Failure(path: error.path + ["events"], message: error.message)
            }
        }
        guard sawEvents else { throw reader.fail("missing field \"events\"") }
        var complete = request
        complete.events = events
        return complete
    }

    private static func readEvents(_ reader: inout JSONReader, replica: ReplicaID?) throws(JSONReader.Failure) -> [ProgressEvent] {
        var events = [ProgressEvent]()
        try reader.array { reader, _ throws(JSONReader.Failure) in events.append(try ProgressEvent.read(&reader, replica: replica)) }
        return events
    }

    /// Writes the cursor last, so that a client can write a request before it knows the cursor
    /// (``encodedStart()``, ``encodedEnd(cursor:cursorMark:)``).
    package func write(to writer: inout JSONWriter) {
        writeStart(to: &writer)
        Self.writeEnd(cursor: cursor, cursorMark: cursorMark, to: &writer)
    }

    /// This request's JSON but for its cursor: ``encodedStart()`` followed by
    /// ``encodedEnd(cursor:cursorMark:)`` is the whole request with that cursor. A client writes
    /// its next request while the answer that brings the cursor is on its way.
    package func encodedStart() -> Data {
        var writer = JSONWriter(capacity: 64 + events.count * 160)
        writeStart(to: &writer)
        return Data(writer.bytes)
    }

    /// The end of a request that ``encodedStart()`` began: its cursor, the cursor's mark, and
    /// the closing brace.
    package static func encodedEnd(cursor: Int64, cursorMark: Int64?) -> Data {
        var writer = JSONWriter(afterMembers: 64)
        writeEnd(cursor: cursor, cursorMark: cursorMark, to: &writer)
        return Data(writer.bytes)
    }

    private func writeStart(to w: inout JSONWriter) {
        w.openingObject()
        w.key("protocol")
        w.int(version)
        w.key("replica")
        w.string(replica.rawValue)
        w.key("lastSeq")
        w.int(lastSeq)
        if let limit {
            w.key("limit")
            w.int(limit)
        }
        if !aliases.isEmpty {
            w.key("aliases")
            w.array { w in for alias in aliases { alias.write(to: &w) } }
        }
        w.key("events")
        w.array { w in
            for event in events { event.write(to: &w, includingReplica: event.id.replica != replica) }
        }
    }

    private static func writeEnd(cursor: Int64, cursorMark: Int64?, to w: inout JSONWriter) {
        w.key("cursor")
        w.int(cursor)
        if let cursorMark {
            w.key("cursorMark")
            w.int(cursorMark)
        }
        w.closingObject()
    }
}

extension SyncResponse: WireMessage {
    package static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> SyncResponse {
        var version: Int?, cursor: Int64?, more: Bool?, time: Int64?, catalog: String?, renewReplica: Bool?
        var rejected: [Rejection]?, events: [ProgressEvent]?, aliases: [Alias]?, retimed: [Retimed]?, lastSeq: Int64?
        var cursorMark: Int64?, rewound: Bool?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "protocol": version = try reader.int()
            case "time": time = try reader.int64()
            case "lastSeq": lastSeq = try reader.int64()
            case "catalog": catalog = try reader.string()
            case "renewReplica": renewReplica = try reader.bool()
            case "retimed":
                var list = [Retimed]()
                try reader.array { reader, _ throws(JSONReader.Failure) in list.append(try Retimed.read(&reader)) }
                retimed = list
            case "cursor": cursor = try reader.int64()
            case "more": more = try reader.bool()
            case "cursorMark": cursorMark = try reader.null() ? nil : reader.int64()
            case "rewound": rewound = try reader.bool()
            case "events":
                var list = [ProgressEvent]()
                try reader.array { reader, _ throws(JSONReader.Failure) in list.append(try ProgressEvent.read(&reader, replica: nil)) }
                events = list
            case "rejected":
                var list = [Rejection]()
                try reader.array { reader, _ throws(JSONReader.Failure) in list.append(try Rejection.read(&reader)) }
                rejected = list
            case "aliases":
                var list = [Alias]()
                try reader.array { reader, _ throws(JSONReader.Failure) in list.append(try Alias.read(&reader)) }
                aliases = list
            default: try reader.skip()
            }
        }
        // Empty lists and false flags may be left out (the server leaves them out).
        return SyncResponse(
            time: try reader.required(time, "time"), catalog: try reader.required(catalog, "catalog"),
            renewReplica: renewReplica ?? false, retimed: retimed ?? [], rejected: rejected ?? [], events: events ?? [],
            aliases: aliases ?? [], cursor: try reader.required(cursor, "cursor"), more: more ?? false, lastSeq: lastSeq,
            cursorMark: cursorMark, rewound: rewound ?? false, version: try reader.required(version, "protocol"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.object { w in
            w.key("protocol")
            w.int(version)
            w.key("time")
            w.int(time)
            w.key("catalog")
            w.string(catalog)
            // Empty lists and false flags are left out: most answers carry none of them, and an
            // incremental sync's answer is mostly envelope.
            if renewReplica {
                w.key("renewReplica")
                w.bool(true)
            }
            if !retimed.isEmpty {
                w.key("retimed")
                w.array { w in
                    for entry in retimed {
                        w.object { w in
                            w.key("seq")
                            w.int(entry.seq)
                            w.key("hlc")
                            w.int(entry.hlc.rawValue)
                        }
                    }
                }
            }
            if !rejected.isEmpty {
                w.key("rejected")
                w.array { w in for rejection in rejected { rejection.write(to: &w) } }
            }
            if !events.isEmpty {
                w.key("events")
                w.array { w in for event in events { event.write(to: &w, includingReplica: true) } }
            }
            if !aliases.isEmpty {
                w.key("aliases")
                w.array { w in for alias in aliases { alias.write(to: &w) } }
            }
            w.key("cursor")
            w.int(cursor)
            if more {
                w.key("more")
                w.bool(true)
            }
            if let lastSeq {
                w.key("lastSeq")
                w.int(lastSeq)
            }
            if let cursorMark {
                w.key("cursorMark")
                w.int(cursorMark)
            }
            if rewound {
                w.key("rewound")
                w.bool(true)
            }
        }
    }
}

extension Rejection {
    static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> Rejection {
        var replica: ReplicaID?, seq: Int64?, code: String?, reason: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "replica": if try !reader.null() { replica = try reader.identifier(ReplicaID.self) }
            case "seq": seq = try reader.int64()
            case "code": code = try reader.string()
            case "reason": reason = try reader.string()
            default: try reader.skip()
            }
        }
        var rejection = Rejection(
            id: EventID(replica: try reader.required(replica, "replica"), seq: try reader.required(seq, "seq")),
            code: .unknownItem, reason: try reader.required(reason, "reason"))
        rejection.code = try reader.required(code, "code")
        return rejection
    }

    func write(to writer: inout JSONWriter) {
        writer.object { w in
            w.key("replica")
            w.string(replica.rawValue)
            w.key("seq")
            w.int(seq)
            w.key("code")
            w.string(code)
            w.key("reason")
            w.string(reason)
        }
    }
}

extension Retimed {
    static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> Retimed {
        var seq: Int64?, hlc: Int64?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "seq": seq = try reader.int64()
            case "hlc": hlc = try reader.int64()
            default: try reader.skip()
            }
        }
        return Retimed(seq: try reader.required(seq, "seq"), hlc: HLCTimestamp(rawValue: try reader.required(hlc, "hlc")))
    }
}

extension Alias {
    static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> Alias {
        var guest: LearnerID?, account: LearnerID?, proof: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "guest": guest = try reader.identifier(LearnerID.self)
            case "account": account = try reader.identifier(LearnerID.self)
            case "proof": proof = try reader.null() ? nil : reader.string()
            default: try reader.skip()
            }
        }
        return Alias(guest: try reader.required(guest, "guest"), account: try reader.required(account, "account"), proof: proof)
    }

    func write(to writer: inout JSONWriter) {
        writer.object { w in
            w.key("guest")
            w.string(guest.rawValue)
            w.key("account")
            w.string(account.rawValue)
            if let proof {
                w.key("proof")
                w.string(proof)
            }
        }
    }
}
