public import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage

/// Checks that devices converged: each shows the same progress in every course of the catalog.
public enum Convergence {
    /// The devices whose progress differs from the first device's, by index.
    public static func divergentDevices(_ devices: [LearnSyncClient]) async throws -> [Int] {
        guard let first = devices.first else { return [] }
        let reference = try await first.store.allProgress()
        var divergent = [Int]()
        for (index, device) in devices.enumerated().dropFirst() where try await device.store.allProgress() != reference {
            divergent.append(index)
        }
        return divergent
    }

    /// The first difference between two devices' progress, in words.
    public static func difference(_ a: LearnSyncClient, _ b: LearnSyncClient) async throws -> String {
        let (x, y) = (try await a.store.allProgress(), try await b.store.allProgress())
        let (idA, idB) = (try await a.identity(), try await b.identity())
        for (p, q) in zip(x, y) where p != q {
            var fields = [String]()
            if p.lessons != q.lessons { fields.append("lessons") }
            if p.quizzes != q.quizzes { fields.append("quizzes") }
            if p.scenarios != q.scenarios { fields.append("scenarios") }
            if p.resume != q.resume { fields.append("resume") }
            if p.resets != q.resets { fields.append("resets \(p.resets.count) vs \(q.resets.count)") }
            if p.eventCount != q.eventCount { fields.append("event count \(p.eventCount) vs \(q.eventCount)") }
            if p.firstDone != q.firstDone { fields.append("first done") }
            if p.certificateEarnedAt != q.certificateEarnedAt { fields.append("certificate \(String(describing: p.certificateEarnedAt)) vs \(String(describing: q.certificateEarnedAt))") }
            return "\(idB.replica) differs from \(idA.replica) in \(p.course): \(fields.joined(separator: ", "))"
        }
        return "\(idB.replica) differs from \(idA.replica)"
    }

    /// Whether the server's own grading (`GET /v1/progress`) differs from the device's progress
    /// in any course.
    public static func disagreesWithServer(_ device: LearnSyncClient) async throws -> Bool {
        let graded = try await device.serverProgress()
        for report in graded.courses where try await device.progress(in: report.progress.course) != report.progress {
            return true
        }
        return false
    }

    /// Syncs every device in turn, twice, so everything each pushed reaches all the others.
    public static func syncUntilQuiet(_ devices: [LearnSyncClient]) async throws {
        for _ in 0..<2 {
            for device in devices { try await device.sync() }
        }
    }
}

extension Convergence {
    /// How a device's progress differs from the reference model fed with the device's own
    /// events and catalog: empty when every course agrees.
    public static func modelDifferences(_ device: LearnSyncClient) async throws -> [String] {
        // While no sync runs (a live one would store an answer between the reads).
        try await device.store.syncLock.withLock {
            let catalog = device.catalog
            var found = [String]()
            for progress in try await device.store.allProgress() {
                guard let course = catalog[progress.course] else { continue }
                let events = try await device.store.events(in: progress.course)
                let expected = ReferenceModel.course(progress.course, events: events, catalog: catalog)
                found += ReferenceModel.differences(progress, certificate: progress.certificate(for: course), expected: expected)
            }
            return found
        }
    }

    /// How the server's grading (`GET /v1/progress`) differs from the reference model fed with
    /// `events` under `catalog`: empty when every course agrees. A course the server reports no
    /// progress for must have none in the model either.
    public static func serverModelDifferences(_ device: LearnSyncClient, events: [ProgressEvent], catalog: Catalog) async throws -> [String] {
        let graded = try await device.serverProgress()
        var found = [String]()
        for course in catalog.courses {
            let expected = ReferenceModel.course(course.id, events: events, catalog: catalog)
            if let report = graded.courses.first(where: { $0.progress.course == course.id }) {
                found += ReferenceModel.differences(report.progress, certificate: report.certificate, expected: expected).map { "server: \($0)" }
            } else if expected.eventCount != 0 {
                found.append("server: \(course.id): no progress, model \(expected)")
            }
        }
        return found
    }
}
