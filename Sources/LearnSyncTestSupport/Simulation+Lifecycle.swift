import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncStorage

/// The checks a simulation makes after each step (the reference model, regressions) and the
/// learner's lifecycle steps (sign-out, password change, erasure, app update).
extension World {
    /// Compares the device's progress with the reference model fed with its own events.
    mutating func checkModel(_ index: Int) async throws {
        let found = try await Convergence.modelDifferences(devices[index].client)
        guard !found.isEmpty else { return }
        let replica = try await devices[index].client.identity().replica
        report.modelMismatches += 1
        report.modelDetails += found.prefix(3).map { "\(replica) after op \(report.syncs + report.events): \($0)" }
    }

    /// Syncs one device, counting what it showed before and no longer shows after.
    mutating func sync(_ index: Int) async throws {
        let client = devices[index].client
        let before = try await visible(client)
        let notice = try await client.notice()?.at
        report.syncs += 1
        do {
            try await client.sync()
        } catch let error as SyncError {
            // An erased learner's device wipes what it held: that is the erasure, not a regression.
            if try await client.notice()?.at == notice { try await countRegressions(client, before: before) }
            try await checkModel(index)
            throw error
        }
        if try await client.notice()?.at == notice { try await countRegressions(client, before: before) }
        try await checkModel(index)
    }

    /// A certificate never goes; a completion or pass goes only when the events the device now
    /// holds include a reset that saw every completion (or passing attempt) of that item, as the
    /// reference model reads `seen`.
    mutating func countRegressions(_ client: LearnSyncClient, before: [String: Visible]) async throws {
        let after = try await visible(client)
        let device = try await client.identity()
        for (course, was) in before {
            let now = after[course] ?? Visible()
            var gone = was.certificates.subtracting(now.certificates).map { "\($0) of \(course)" }
            let events = try await client.store.events(in: CourseID(validating: course))
            let seen = events.compactMap { event -> SeenEvents? in if case .courseReset(let seen) = event.payload { seen } else { nil } }
            func retaken(_ item: String, _ isDone: (EventPayload) -> Bool) -> Bool {
                let done = events.filter { $0.payload.item?.rawValue == item && isDone($0.payload) }
                return done.allSatisfy { event in seen.contains { $0.ranges[event.id.replica]?.contains { $0.contains(event.id.seq) } ?? false } }
            }
            gone += was.completed.subtracting(now.completed).filter { lesson in
                !retaken(lesson) { if case .lessonCompleted = $0 { true } else { false } }
            }.map { "completion of \(course)/\($0)" }
            let catalog = client.catalog
            let courseID = try CourseID(validating: course)
            gone += was.passed.subtracting(now.passed).filter { quiz in
                !retaken(quiz) { payload in
                    guard case .quizAttempt = payload, let event = try? ProgressEvent(
                        id: EventID(replica: device.replica, seq: 1), learner: device.learner, timestamp: HLCTimestamp(rawValue: 1),
                        course: courseID, payload: payload)
                    else { return false }
                    return ReferenceModel.course(courseID, events: [event], catalog: catalog).quizzes.values.contains(where: \.passed)
                }
            }.map { "pass of \(course)/\($0)" }
            report.regressions += gone.count
            report.regressionDetails += gone.map { "\($0) gone from \(device.learner) on \(device.replica) after a sync" }
        }
    }

    func visible(_ client: LearnSyncClient) async throws -> [String: Visible] {
        var result = [String: Visible]()
        for progress in try await client.store.allProgress() {
            var visible = Visible()
            visible.completed = Set(progress.lessons.filter { $0.value.status == .completed }.map(\.key.rawValue))
            visible.passed = Set(progress.quizzes.filter(\.value.passed).map(\.key.rawValue))
            if progress.certificateEarnedAt != nil { visible.certificates = ["certificate"] }
            result[progress.course.rawValue] = visible
        }
        return result
    }

    /// One step of a learner's life with the product. The learner's own actions run without
    /// network faults: a person retries them until they go through, and knows what they did.
    mutating func lifecycleStep(_ index: Int) async throws {
        let link = devices[index].link
        link.setFaultsEnabled(false)
        defer { link.setFaultsEnabled(true) }
        let client = devices[index].client
        let learner = devices[index].learner
        let isGuest = try await client.identity().learner.isGuest
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<4:
            // Sign out (refused while events exist on this device only), to sign in again later.
            try await sync(index)
            try await devices[index].followMoves()
            do {
                try await client.signOut()
            } catch let error as SyncError where error.code == .notSynced || error.code == .guestNotClaimed {
                report.refusedSignOuts += 1
                return
            }
            // Everything it held is on the server: sign-out refuses otherwise.
            settled[learner, default: []].formUnion(devices[index].tracked)
            devices[index].tracked = []
            report.signOuts += 1
        case 4..<6 where !isGuest:
            let new = "simulated password \(generator.next() % 1000)"
            try await client.changePassword(current: password(learner), new: new)
            passwords[learner] = new
            report.passwordChanges += 1
        case 6..<8 where !isGuest:
            let account = try await client.identity().learner
            try await client.deleteAccount(password: password(learner))
            erased.insert(account)
            report.erasures += 1
            accountExists.remove(learner)
            epochs[learner, default: 0] += 1
            passwords[learner] = nil
            settled[learner] = []
        default:
            // The app is updated: its bundle holds the newest catalog version only.
            let newest = versions[versions.count - 1]
            guard devices[index].appVersion + 1 < versions.count else { return }
            devices[index].appVersion = versions.count - 1
            // Now and then the app bundles a copy corrected without a new version number: the
            // server's copy grades wherever the server serves that version.
            let bundled = Bool.random(using: &generator) ? newest.courses : newest.courses.map(CatalogVersions.corrected)
            try await client.store.setBundledCatalog(try Catalog(bundled))
            report.catalogUpgrades += 1
        }
    }

    /// A device that learned its learner was erased (here or at a sync) wiped what it held: none
    /// of it is expected anywhere.
    mutating func noticeErasure(_ index: Int) async throws {
        guard let notice = try await devices[index].client.notice(), notice.kind == .learnerErased,
              notice.at != devices[index].lastNotice
        else { return }
        devices[index].lastNotice = notice.at
        report.destroyedByErasure += devices[index].tracked.count
        devices[index].tracked = []
    }
}
