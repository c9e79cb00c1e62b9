import Foundation
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// PostgreSQL's one-statement push answers every request as the general push does: the same
/// random syncs of three devices (pushes at the feed's end and behind it, answers lost and
/// sent again, clocks far ahead, another learner's events, a feed that went back in time under
/// a device's cursor) go to a PostgreSQL store and to the SQLite store, whose answers must
/// agree, the marks aside (each store draws its own).
@Suite(.tags(.postgres)) struct QuickPushTests {
    /// A device's view of one server: its cursor and the mark there.
    struct View {
        var cursor: Int64 = 0
        var mark: Int64?
    }

    struct Device {
        let replica = ReplicaID.random()
        var seq: Int64 = 0
        var views = [View(), View()]
        /// The events of the last push whose answer was lost, sent again next time.
        var unanswered: [ProgressEvent] = []
    }

    /// What must agree: everything but the marks' values.
    struct Answer: Equatable, CustomStringConvertible {
        var events: [EventID]
        var rejected: [String]
        var retimed: [Retimed]
        var cursor: Int64
        var more: Bool
        var lastSeq: Int64?
        var renewReplica: Bool
        var rewound: Bool
        var hasMark: Bool

        init(_ response: SyncResponse) {
            events = response.events.map(\.id)
            rejected = response.rejected.map { "\($0.id):\($0.code)" }
            retimed = response.retimed
            cursor = response.cursor
            more = response.more
            lastSeq = response.lastSeq
            renewReplica = response.renewReplica
            rewound = response.rewound
            hasMark = response.cursorMark != nil
        }

        var description: String {
            "events \(events.count), rejected \(rejected), retimed \(retimed.count), cursor \(cursor), more \(more), lastSeq \(lastSeq.map(String.init) ?? "-"), renew \(renewReplica), rewound \(rewound), mark \(hasMark)"
        }
    }

    /// Directly, and through PgBouncer in transaction mode (no prepared statements).
    @Test(arguments: [false, true]) func theOneStatementPushAnswersAsTheGeneralOne(throughPgBouncer: Bool) async throws {
        guard !TestPostgres.isSkipped else { return print("QuickPushTests skipped: LEARNSYNC_SKIP_POSTGRES=1") }
        let seed = SeededGenerator.seedFromEnvironment()
        print("QuickPushTests seed: \(seed)\(throughPgBouncer ? " (through PgBouncer)" : "")")
        var generator = SeededGenerator(seed: seed)
        let running = try await RunningPostgresStore(#function, throughPooler: throughPgBouncer)
        let servers = [try TestServer(), try TestServer(store: running.store, running: running)]
        let learner = LearnerID.newGuest(), stranger = LearnerID.newGuest()
        let lessons: [ItemID] = ["keep-secure", "train-staff", "collect-only-necessary", "limit-access"]
        let now = servers[0].clock.millisecondsSince1970()
        let services = servers.map(\.service)
        var tokens = [String]()
        for service in services {
            let secret = "a-device-secret-of-enough-length"
            tokens.append(try await service.registerGuest(RegisterGuestRequest(learner: learner, secret: secret), address: "direct").token)
            _ = try await service.registerGuest(RegisterGuestRequest(learner: stranger, secret: secret), address: "direct")
        }
        do {
            do {
                var devices = (0..<3).map { _ in Device() }
                var time = now - 3_600_000
                var index = 0
                for step in 0..<300 {
                    // Mostly the device used last, as a learner studies on one at a time.
                    if Int.random(in: 0..<4, using: &generator) == 0 { index = Int.random(in: 0..<devices.count, using: &generator) }
                    var device = devices[index]
                    var events = device.unanswered
                    if events.isEmpty, Int.random(in: 0..<4, using: &generator) > 0 {
                        for _ in 0..<Int.random(in: 1...4, using: &generator) {
                            device.seq += 1
                            time += 1
                            // A clock far ahead now and then: stored at the server's time.
                            let at = Int.random(in: 0..<12, using: &generator) == 0 ? now + 86_400_000 : time
                            events.append(try ProgressEvent(
                                id: EventID(replica: device.replica, seq: device.seq),
                                learner: Int.random(in: 0..<40, using: &generator) == 0 ? stranger : learner,
                                timestamp: HLCTimestamp(physicalMilliseconds: at), course: SampleCatalog.courseID,
                                payload: .lessonStarted(lesson: lessons.randomElement(using: &generator)!)))
                        }
                    }
                    let loses = Int.random(in: 0..<8, using: &generator) == 0
                    let wrongMark = Int.random(in: 0..<25, using: &generator) == 0
                    let limit = Int.random(in: 0..<3, using: &generator) == 0 ? 3 : 100
                    var answers = [Answer]()
                    for (server, service) in services.enumerated() {
                        let view = device.views[server]
                        let mark = wrongMark ? (view.mark ?? 0) + 1 : view.mark
                        let request = SyncRequest(
                            replica: device.replica, lastSeq: device.seq, cursor: view.cursor, cursorMark: mark, events: events, limit: limit)
                        let response = try await service.sync(request, authorization: "Bearer \(tokens[server])")
                        answers.append(Answer(response))
                        if !loses {
                            device.views[server] = View(cursor: response.cursor, mark: response.cursorMark ?? mark)
                        }
                    }
                    device.unanswered = loses ? events : []
                    devices[index] = device
                    #expect(answers[0] == answers[1], "step \(step), seed \(seed): SQLite \(answers[0]); PostgreSQL \(answers[1])")
                    if answers[0] != answers[1] { return }
                }
            }
        }
        let paths = running.store.pushPaths.withLock { $0 }
        print("QuickPushTests: \(paths.quick) pushes in one statement, \(paths.general) general (seed \(seed))")
        #expect(paths.quick > 50 && paths.general > 10, "seed \(seed): both paths must be exercised")
    }
}
