import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTesting
import Testing

/// The operations swept for failure points: recording, applying a sync's answer, attaching a
/// guest, the sign-out wipe on the device, and the server's commits of a push and an attach.
/// Together they run more than 1,000 failure points.
extension DiskFaultTests {
    @Test func recordingOnAFullOrFailingDiskKeepsEveryRecordedEvent() async throws {
        let lessons = try SampleCatalog.load()[SampleCatalog.courseID]!.lessons
        let workload = Workload(
            name: "record", server: false,
            prepare: { place, client, acknowledged in
                let device = try place.device(client, path: place.devicePath)
                try await device.signUp(username: "recorder", password: Self.password)
                acknowledged.add([try await device.record(.lessonCompleted(lesson: lessons[0].id), in: place.course.id).id])
                return device
            },
            act: { place, device, acknowledged in
                for round in 0..<30 {
                    let lesson = lessons[round % lessons.count]
                    acknowledged.add([try await device.record(.lessonCompleted(lesson: lesson.id), in: place.course.id).id])
                }
                acknowledged.add(try await device.record(lessons.map { RecordEntry(course: place.course.id, payload: .lessonStarted(lesson: $0.id)) }).map(\.id))
            },
            settle: { place, device, acknowledged, _, label in
                acknowledged.add([try await device.record(.lessonCompleted(lesson: lessons[1].id), in: place.course.id).id])
                try await Self.expectAgreement(device, acknowledged: acknowledged, course: place.course, label: label)
                try await Self.expectSameOnDisk(device, place: place, label: label)
            })
        try await sweep(workload, minimum: 260)
    }

    @Test func applyingASyncOnAFullOrFailingDiskLosesNothing() async throws {
        let workload = Workload(
            name: "sync-apply", server: false,
            prepare: { place, client, acknowledged in
                let other = try place.device(client)
                try await other.signUp(username: "puller", password: Self.password)
                try await other.complete(place.course.lessons, in: place.course)
                try await other.sync()
                let device = try place.device(client, path: place.devicePath)
                try await device.record(.lessonStarted(lesson: place.course.lessons[0].id), in: place.course.id)
                try await device.signIn(username: "puller", password: Self.password)
                try await other.complete(place.course.lessons, in: place.course)
                try await other.passQuiz(in: place.course)
                try await other.sync()
                acknowledged.add(try await device.events(in: place.course.id).map(\.id))
                return device
            },
            act: { place, device, acknowledged in
                // Each sync applies an answer: the other device's events, then acknowledgements.
                try await device.sync()
                for lesson in place.course.lessons {
                    acknowledged.add([try await device.record(.lessonCompleted(lesson: lesson.id), in: place.course.id).id])
                    try await device.sync()
                }
            },
            settle: { place, device, acknowledged, _, label in
                try await Self.expectAgreement(device, acknowledged: acknowledged, course: place.course, label: label)
                #expect(try await device.serverExport().events.count >= 2 * place.course.lessons.count + 2, "\(label)")
                try await Self.expectSameOnDisk(device, place: place, label: label)
            })
        try await sweep(workload, minimum: 150)
    }

    @Test func attachingAGuestOnAFullOrFailingDiskLosesNothing() async throws {
        try await sweep(attach(server: false), minimum: 60)
    }

    @Test func theServerAttachingOnAFullOrFailingDiskLosesNothing() async throws {
        try await sweep(attach(server: true), minimum: 40)
    }

    /// A guest with synced and pending events signs in to an account that has events of its own.
    private func attach(server: Bool) -> Workload {
        Workload(
            name: server ? "server attach" : "attach", server: server,
            prepare: { place, client, acknowledged in
                let other = try place.device(client)
                try await other.signUp(username: "attacher", password: Self.password)
                try await other.complete(place.course.lessons.prefix(2), in: place.course)
                try await other.sync()
                let device = try place.device(client, path: place.devicePath)
                try await device.complete(place.course.lessons.suffix(2), in: place.course)
                try await device.sync()
                try await device.passQuiz(in: place.course)
                acknowledged.add(try await device.events(in: place.course.id).map(\.id))
                return device
            },
            act: { _, device, _ in
                _ = try await device.signIn(username: "attacher", password: Self.password)
                try await device.sync()
            },
            settle: { place, device, acknowledged, _, label in
                if try await device.identity().learner.isGuest {
                    _ = try await device.signIn(username: "attacher", password: Self.password)
                }
                try await Self.expectAgreement(device, acknowledged: acknowledged, course: place.course, label: label)
                #expect(try await device.serverExport().events.count == 5, "\(label)")
                if !server { try await Self.expectSameOnDisk(device, place: place, label: label) }
            })
    }

    @Test func signingOutOnAFullOrFailingDiskKeepsTheAccountWhole() async throws {
        let workload = Workload(
            name: "sign-out wipe", server: false,
            prepare: { place, client, acknowledged in
                let device = try place.device(client, path: place.devicePath)
                try await device.signUp(username: "leaver", password: Self.password)
                try await device.complete(place.course.lessons, in: place.course)
                try await device.sync()
                acknowledged.add(try await device.events(in: place.course.id).map(\.id))
                return device
            },
            act: { _, device, _ in try await device.signOut() },
            settle: { place, device, acknowledged, client, label in
                // A sign-out that failed leaves the learner signed in with every event, or signed
                // out; signing out again finishes it.
                let held = Set(try await device.events(in: place.course.id).map(\.id))
                #expect(held.isEmpty || held == acknowledged.all, "\(label): \(held.count) events after a failed sign-out")
                try await device.signOut()
                #expect(try await device.events(in: place.course.id).isEmpty, "\(label)")
                // The account keeps every event on the server.
                let fresh = try place.device(client)
                _ = try await fresh.signIn(username: "leaver", password: Self.password)
                #expect(Set(try await fresh.events(in: place.course.id).map(\.id)) == acknowledged.all, "\(label)")
            })
        try await sweep(workload, minimum: 170)
    }

    @Test func theServerCommittingOnAFullOrFailingDiskAcknowledgesOnlyWhatItStored() async throws {
        let workload = Workload(
            name: "server commit", server: true,
            prepare: { place, client, acknowledged in
                let device = try place.device(client)
                try await device.signUp(username: "pusher", password: Self.password)
                try await device.complete(place.course.lessons.prefix(2), in: place.course)
                try await device.sync()
                try await device.complete(place.course.lessons, in: place.course)
                try await device.failQuiz(in: place.course)
                acknowledged.add(try await device.events(in: place.course.id).map(\.id))
                return device
            },
            act: { place, device, _ in
                try await device.sync()
                for round in 0..<20 {
                    let lesson = place.course.lessons[round % place.course.lessons.count]
                    try await device.record(.lessonStarted(lesson: lesson.id), in: place.course.id)
                    try await device.sync()
                }
                try await device.passQuiz(in: place.course)
                try await device.sync()
            },
            settle: { place, device, acknowledged, _, label in
                try await Self.expectAgreement(device, acknowledged: acknowledged, course: place.course, label: label)
            })
        try await sweep(workload, minimum: 340)
    }

    /// A second store opened on the device's file holds what the first one reports.
    static func expectSameOnDisk(_ device: LearnSyncClient, place: DiskFaultTests.Place, label: String) async throws {
        let reopened = try DeviceStore(path: place.devicePath, catalog: place.catalog)
        let held = try await device.events(in: place.course.id).map(\.id)
        #expect(try await reopened.events(in: place.course.id).map(\.id) == held, "\(label): the file and the open store differ")
    }
}
