import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncTesting
import Testing

/// The hand-written JSON of the sync messages (``WireCoding``), read back by itself and by Foundation, and
/// against bad input. Randomized cases print their seed; replay one with
/// `LEARNSYNC_SEED=<seed> swift test --traits Server --filter WireCodingTests`.
@Suite struct WireCodingTests {
    let catalog = try! SampleCatalog.load()

    /// Random requests and answers, with ids, quiz answers, reasons holding quotes, backslashes,
    /// control characters and non-ASCII text.
    func randomMessages(_ generator: inout SeededGenerator) -> (SyncRequest, SyncResponse) {
        let replica = ReplicaID.random()
        let learner: LearnerID = Bool.random(using: &generator) ? .newGuest() : .newAccount()
        let count = Int.random(in: 0...40, using: &generator)
        let pushed = RandomStudy.events(count: count, catalog: catalog, learners: [learner], replicas: [replica], using: &generator)
        let pulled = RandomStudy.events(count: count, catalog: catalog, learners: [learner, .newGuest()], replicas: [.random(), .random()], using: &generator)
        let reasons = ["unknown lesson", "quote \" and backslash \\", "tab\tnew line\n\u{1}", "é 日本 🎓", ""]
        let rejected = pushed.prefix(3).map {
            Rejection(id: $0.id, code: RejectionCode.allCases.randomElement(using: &generator)!, reason: reasons.randomElement(using: &generator)!)
        }
        let request = SyncRequest(
            replica: replica, lastSeq: Int64.random(in: 0...1000, using: &generator), cursor: Int64.random(in: 0...Int64.max, using: &generator),
            cursorMark: Bool.random(using: &generator) ? Int64.random(in: 0...Int64.max, using: &generator) : nil, events: pushed,
            limit: Bool.random(using: &generator) ? Int.random(in: 1...1000, using: &generator) : nil)
        let response = SyncResponse(
            time: Int64.random(in: 0...Int64.max, using: &generator), catalog: String(UInt64.random(in: 0...UInt64.max, using: &generator), radix: 16),
            renewReplica: Bool.random(using: &generator),
            retimed: pushed.prefix(2).map { Retimed(seq: $0.id.seq, hlc: $0.timestamp) },
            rejected: rejected, events: pulled, aliases: [Alias(guest: .newGuest(), account: .newAccount())],
            cursor: Int64.random(in: 0...Int64.max, using: &generator), more: Bool.random(using: &generator),
            lastSeq: Bool.random(using: &generator) ? Int64.random(in: 0...Int64.max, using: &generator) : nil,
            cursorMark: Bool.random(using: &generator) ? Int64.random(in: 0...Int64.max, using: &generator) : nil,
            rewound: Bool.random(using: &generator))
        return (request, response)
    }

    @Test func messagesRoundTripAndFoundationReadsWhatIsWritten() throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("WireCodingTests seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let (request, response) = randomMessages(&generator)
            // The one codec reads back what it writes.
            #expect(try WireCoding.decode(SyncRequest.self, from: WireCoding.encode(request)) == request, "seed \(seed)")
            #expect(try WireCoding.decode(SyncResponse.self, from: WireCoding.encode(response)) == response, "seed \(seed)")
            // An independent JSON reader (Foundation's) finds the same values.
            let requestJSON = try #require(try JSONSerialization.jsonObject(with: WireCoding.encode(request)) as? [String: Any])
            #expect(requestJSON["cursor"] as? Int64 == request.cursor, "seed \(seed)")
            #expect(requestJSON["limit"] as? Int == request.limit, "seed \(seed)")
            let events = try #require(requestJSON["events"] as? [[String: Any]])
            #expect(events.map { $0["seq"] as? Int64 } == request.events.map(\.id.seq), "seed \(seed)")
            #expect(events.map { $0["type"] as? String } == request.events.map(\.payload.type), "seed \(seed)")
            #expect(events.allSatisfy { $0["replica"] == nil }, "pushed events leave out the request's replica; seed \(seed)")
            let responseJSON = try #require(try JSONSerialization.jsonObject(with: WireCoding.encode(response)) as? [String: Any])
            #expect(responseJSON["time"] as? Int64 == response.time, "seed \(seed)")
            // Empty lists and false flags are left out.
            let reasons = (responseJSON["rejected"] as? [[String: Any]] ?? []).map { $0["reason"] as? String }
            #expect(reasons == response.rejected.map(\.reason), "seed \(seed)")
            #expect((responseJSON["rejected"] == nil) == response.rejected.isEmpty, "seed \(seed)")
            let pulled = responseJSON["events"] as? [[String: Any]] ?? []
            #expect(pulled.map { $0["replica"] as? String } == response.events.map(\.id.replica.rawValue), "seed \(seed)")
            #expect((responseJSON["events"] == nil) == response.events.isEmpty, "seed \(seed)")
            #expect(responseJSON["more"] as? Bool == (response.more ? true : nil), "seed \(seed)")
            #expect(responseJSON["renewReplica"] as? Bool == (response.renewReplica ? true : nil), "seed \(seed)")
        }
    }

    /// A client writes its next request before the cursor is known: the two parts make the
    /// whole request, with any cursor.
    @Test func aRequestWrittenInTwoPartsIsTheWholeRequest() throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("WireCodingTests two parts seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        for (cursor, mark) in [(0, nil), (1, 1), (9, nil), (10, Int64.max), (1_234_567, 0), (Int64.max, 42)] as [(Int64, Int64?)] {
            var (request, _) = randomMessages(&generator)
            request.cursor = cursor
            request.cursorMark = mark
            let parts = request.encodedStart() + SyncRequest.encodedEnd(cursor: cursor, cursorMark: mark)
            #expect(parts == (try WireCoding.encode(request)), "seed \(seed)")
            #expect(try WireCoding.decodeRequest(SyncRequest.self, from: parts) == request, "seed \(seed)")
            #expect((try JSONSerialization.jsonObject(with: parts) as? [String: Any])?["cursor"] as? Int64 == cursor, "seed \(seed)")
        }
    }

    @Test func pushedEventsLeaveOutTheRequestsReplica() throws {
        let request = try WireCoding.decode(SyncRequest.self, from: Golden.data("sync-request.json"))
        #expect(request.events.count == 7)
        #expect(request.events.allSatisfy { $0.id.replica == request.replica })
        let encoded = String(decoding: try WireCoding.encode(request), as: UTF8.self)
        // Once as the request's replica, once in the reset's seen events.
        #expect(encoded.components(separatedBy: request.replica.rawValue).count == 3, "the replica is written once per field")
        // An event may still name its replica, before or after the request's own field.
        let explicit = #"{"events":[{"replica":"r1","seq":1,"learner":"g-1","hlc":5,"course":"c","type":"course.reset","seen":""}],"protocol":1,"replica":"r2","lastSeq":1,"cursor":0}"#
        let decoded = try WireCoding.decode(SyncRequest.self, from: Data(explicit.utf8))
        #expect(decoded.events[0].id.replica == "r1")
        let late = #"{"events":[{"seq":1,"learner":"g-1","hlc":5,"course":"c","type":"course.reset","seen":""}],"protocol":1,"replica":"r2","lastSeq":1,"cursor":0}"#
        #expect(try WireCoding.decode(SyncRequest.self, from: Data(late.utf8)).events[0].id.replica == "r2")
        // `null` is absent: the event's replica is the request's, and there are no aliases.
        let nulls = #"{"events":[{"replica":null,"seq":1,"learner":"g-1","hlc":5,"course":"c","type":"course.reset","seen":""}],"protocol":1,"replica":"r2","lastSeq":1,"cursor":0,"aliases":null}"#
        let absent = try WireCoding.decode(SyncRequest.self, from: Data(nulls.utf8))
        #expect(absent.events[0].id.replica == "r2" && absent.aliases.isEmpty)
    }

    @Test func escapesAndUnicodeReadBack() throws {
        let body = #"{"protocol":1,"time":5,"catalog":"c","renewReplica":false,"retimed":[],"rejected":[{"replica":"r","seq":1,"code":"x","reason":"a\"b\\c\/d\n\u00e9\ud83c\udf93 é"}],"events":[],"aliases":[],"cursor":0,"more":false}"#
        let response = try WireCoding.decode(SyncResponse.self, from: Data(body.utf8))
        #expect(response.rejected[0].reason == "a\"b\\c/d\né🎓 é")
    }

    /// Keys and identifiers are read in place when plain; escaped ones are decoded first, and are
    /// the same keys and identifiers.
    @Test func escapedKeysAndIdentifiersAreTheSameAsPlainOnes() throws {
        let body = #"{"pr\u006ftocol":1,"replica":"r\u0032","lastSeq":0,"cursor":3,"events":[{"s\u0065q":1,"learner":"g-1","hlc":5,"course":"c","type":"course.reset","seen":""}]}"#
        let request = try WireCoding.decodeRequest(SyncRequest.self, from: Data(body.utf8))
        #expect(request.replica == "r2")
        #expect(request.cursor == 3)
        #expect(request.events[0].id == EventID(replica: "r2", seq: 1))
    }

    @Test(arguments: [
        (#"{"protocol":1,"replica":"r","replica":"s","lastSeq":0,"cursor":0,"events":[]}"#, "the field \"replica\" is given twice"),
        (#"{"protocol":1,"replica":"r","r\u0065plica":"s","lastSeq":0,"cursor":0,"events":[]}"#, "the field \"replica\" is given twice"),
        (#"{"protocol":1,"r\u0065plica":"r","replica":"s","lastSeq":0,"cursor":0,"events":[]}"#, "the field \"replica\" is given twice"),
        (#"{"protocol":1,"é":1,"\u00e9":2,"replica":"r","lastSeq":0,"cursor":0,"events":[]}"#, "the field \"é\" is given twice"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0,"events":[{"seq":1,"seq":2}]}"#, "events[0]: the field \"seq\" is given twice"),
        (#"{"protocol":1,"replica":"","lastSeq":0,"cursor":0,"events":[]}"#, "replica: replica id must not be empty"),
        (#"{"protocol":1,"replica":"é","lastSeq":0,"cursor":0,"events":[]}"#, "replica: replica id may only use letters, digits, '.', '_' and '-'"),
        (#"{"protocol":1,"replica":"r\u0020","lastSeq":0,"cursor":0,"events":[]}"#, "replica: replica id may only use letters, digits, '.', '_' and '-'"),
        (#"{"protocol":1,"replica":7,"lastSeq":0,"cursor":0,"events":[]}"#, "replica: expected a string"),
        (#"{"protocol":1,"replica":""# + String(repeating: "r", count: 65) + #"","lastSeq":0,"cursor":0,"events":[]}"#, "replica: replica id must be at most 64 characters"),
    ])
    func keysGivenTwiceAndBadIdentifiersAreRefused(body: String, detail: String) {
        #expect(throws: Problem(code: .malformedJSON, detail: detail)) {
            try WireCoding.decodeRequest(SyncRequest.self, from: Data(body.utf8))
        }
    }

    @Test(arguments: [
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":1.5,"events":[]}"#, "cursor: expected an integer"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":01,"events":[]}"#, "cursor: expected an integer without leading zeros"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":99999999999999999999,"events":[]}"#, "cursor: integer out of range"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0,"events":[{"seq":1}]}"#, "events[0]: missing field \"type\""),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0,"events":[{"seq":1,"learner":"g-1","hlc":5,"course":"c","type":"lesson.started"}]}"#, "events[0]: missing field \"item\" for a lesson.started event"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0,"events":[{"seq":1,"learner":"g 1","hlc":5,"course":"c","type":"course.reset","seen":""}]}"#, "events[0].learner: learner id may only use letters, digits, '.', '_' and '-'"),
        (#"{"protocol":1,"replica":"r"#, "replica: unterminated string"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0}"#, "missing field \"events\""),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0,"events":[]} x"#, "unexpected text after the JSON value"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0,"events":[],}"#, "expected a field name"),
        (#"{"protocol":1,"replica":"r\u0000","lastSeq":0,"cursor":0,"events":[]}"#, "replica: replica id may only use letters, digits, '.', '_' and '-'"),
        ("{\"protocol\":1,\"replica\":\"r\n\",\"cursor\":0,\"events\":[]}", "replica: control character in a string"),
        (#"{"protocol":1,"replica":"r","lastSeq":0,"cursor":0,"events":[],"x":"\ud800"}"#, "x: unpaired surrogate in a string"),
        (String(repeating: "[", count: 40), "expected an object"),
        (#"{"protocol":1,"x":"# + String(repeating: "[", count: 40), "x" + String(repeating: "[0]", count: 31) + ": nested too deeply"),
    ])
    func badJSONNamesTheFieldAndTheRule(body: String, detail: String) {
        #expect(throws: Problem(code: .malformedJSON, detail: detail)) {
            try WireCoding.decodeRequest(SyncRequest.self, from: Data(body.utf8))
        }
    }

    @Test(arguments: [("2", 2), ("2.0", 2), ("2e0", 2), ("1e3", 1000), ("1.5e1", 15), ("1500e-2", 15), ("0.0", 0), ("9.223372036854775807e18", Int64.max)])
    func wholeNumbersAreIntegersAsJSONSchemaCountsThem(_ number: String, _ value: Int64) throws {
        let body = #"{"protocol":1.0,"replica":"r","lastSeq":0,"cursor":"# + number + #","events":[]}"#
        #expect(try WireCoding.decodeRequest(SyncRequest.self, from: Data(body.utf8)).cursor == value)
    }

    @Test(arguments: ["1.5", "1.25e1", "15e-1", "1e19", "1.", "1e", "1e+"])
    func fractionsAndBrokenNumbersAreRefused(_ number: String) {
        let body = #"{"protocol":1,"replica":"r","lastSeq":0,"cursor":"# + number + #","events":[]}"#
        #expect(throws: Problem.self) { try WireCoding.decodeRequest(SyncRequest.self, from: Data(body.utf8)) }
    }

    @Test func theVersionIsJudgedBeforeTheShape() {
        let body = #"{"protocol":2,"replica":"r","cursor":"not a number"}"#
        #expect(throws: Problem.self) { try WireCoding.decodeRequest(SyncRequest.self, from: Data(body.utf8)) }
        do {
            _ = try WireCoding.decodeRequest(SyncRequest.self, from: Data(body.utf8))
        } catch {
            #expect(error.code == ProblemCode.unsupportedVersion.rawValue)
        }
        #expect(throws: Problem.self) { try WireCoding.decodeRequest(SyncRequest.self, from: Data(#"{"replica":"r","cursor":0,"events":[]}"#.utf8)) }
    }
}
