package import Foundation
package import LearnSync
import GRDB
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncStorage

/// The outcome of one scenario.
package struct ScenarioResult: Sendable, Encodable {
    package var name: String
    package var steps: Int
    /// One line per broken expectation, naming the step.
    package var failures: [String]
    package var passed: Bool { failures.isEmpty }
}

/// Runs ``ScenarioScript``s against a real embedded server over loopback HTTP, each device with
/// its own store, clock and switchable, fault-capable transport.
package struct ScenarioRunner: Sendable {
    package let catalog: Catalog

    package init(catalog: Catalog) { self.catalog = catalog }

    /// Loads and runs a scenario file.
    package func run(file: URL) async throws -> ScenarioResult {
        try await run(named: file.lastPathComponent, data: { try Data(contentsOf: file) })
    }

    /// Reads and runs a scenario; `file` names it when it cannot be read.
    package func run(named file: String, data: () throws -> Data) async throws -> ScenarioResult {
        let script: ScenarioScript
        do {
            script = try ScenarioScript.read(data())
        } catch {
            return ScenarioResult(name: file, steps: 0, failures: ["\(file): cannot read the scenario: \(error)"])
        }
        return try await run(script)
    }

    /// Runs a scenario in a fresh temporary folder (server database and device stores).
    package func run(_ script: ScenarioScript) async throws -> ScenarioResult {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-scenario-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let databasePath = folder.appendingPathComponent("server.sqlite").path
        let serverClock = OffsetWallClock()
        let versions = try CatalogVersions.make(from: catalog, count: 3, changingRules: true)
        var serverCatalog = catalog
        var server = try await EmbeddedServer.start(databasePath: databasePath, catalog: serverCatalog, passwordCost: 4, clock: serverClock)
        let course = script.course ?? SampleCatalog.courseID
        guard catalog[course] != nil else {
            await server.stop()
            return ScenarioResult(name: script.name, steps: script.steps.count, failures: ["the catalog has no course \(course)"])
        }
        var run = Run(catalog: catalog, versions: versions, folder: folder, course: course, serverURL: server.url)
        for (index, step) in script.steps.enumerated() {
            let label = "step \(index + 1) (\(step.action)\(step.device.map { " on \($0)" } ?? ""))"
            if let problem = step.problem {
                run.failures.append("\(label): \(problem)")
                continue
            }
            switch step.action {
            case "restart-server":
                await server.stop()
                server = try await EmbeddedServer.start(databasePath: databasePath, catalog: serverCatalog, passwordCost: 4, clock: serverClock)
                for device in run.devices.values { device.network.switchTo(server.url) }
                run.serverURL = server.url
                continue
            case "server-clock":
                serverClock.setOffset(milliseconds: Int64(step.offsetMinutes ?? 0) * 60_000)
                continue
            case "server-catalog":
                guard let version = step.version, versions.indices.contains(version - 1) else {
                    run.failures.append("\(label): version must be 1 to \(versions.count)")
                    continue
                }
                let published = try Run.variant(of: versions[version - 1], step)
                do {
                    try await server.publish(published)
                    serverCatalog = published
                    if let expected = step.expectError { run.failures.append("\(label): expected error \(expected), but it succeeded") }
                } catch let error as ServerError {
                    if step.expectError != "catalog-conflict" { run.failures.append("\(label): \(error)") }
                }
                continue
            case "sweep":
                try await server.sweep()
                continue
            case "backup-server":
                // SQLite's online backup: a consistent copy of the running server's last commit.
                try DatabaseQueue(path: databasePath).backup(to: DatabaseQueue(path: databasePath + ".backup"))
                continue
            case "restore-server":
                // As an operator restores: stopped, the database replaced by the backup, started
                // again. The erasure journal beside it stays.
                guard FileManager.default.fileExists(atPath: databasePath + ".backup") else {
                    run.failures.append("\(label): no backup-server step came before")
                    continue
                }
                await server.stop()
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
                try FileManager.default.copyItem(atPath: databasePath + ".backup", toPath: databasePath)
                server = try await EmbeddedServer.start(databasePath: databasePath, catalog: serverCatalog, passwordCost: 4, clock: serverClock)
                for device in run.devices.values { device.network.switchTo(server.url) }
                run.serverURL = server.url
                continue
            default:
                break
            }
            do {
                try await run.perform(step)
                if let expected = step.expectError { run.failures.append("\(label): expected error \(expected), but it succeeded") }
            } catch let failure as ScenarioFailure {
                run.failures.append("\(label): \(failure.message)")
            } catch {
                if let expected = step.expectError, Self.matches(error, expected) { continue }
                run.failures.append("\(label): \(error)")
            }
            // Every device, after every step, shows what the reference model says its events give.
            for (name, device) in run.devices.sorted(by: { $0.key < $1.key }) {
                for difference in try await Convergence.modelDifferences(device.client) {
                    run.failures.append("\(label): \(name) differs from the reference model: \(difference)")
                }
            }
        }
        for device in run.devices.values where device.live { await device.client.stopSync() }
        await server.stop()
        return ScenarioResult(name: script.name, steps: script.steps.count, failures: run.failures)
    }

    static func matches(_ error: any Error, _ expected: String) -> Bool {
        if let error = error as? SyncError {
            return error.code.description == expected || error.problem?.code == expected
        }
        if let error = error as? StorageError { return error.code.description == expected }
        return false
    }
}

struct ScenarioFailure: Error {
    var message: String
    /// Waiting cannot mend it (a lesson the course lacks, a device no step made): an expect
    /// step with `within` fails at once.
    var isFinal = false
}

/// One device of a scenario.
struct ScenarioDevice {
    var client: LearnSyncClient
    let network: SwitchableTransport
    let link: FaultyTransport
    let clock: OffsetWallClock
    /// Whether a `live-start` step started live sync (stopped by `live-stop`).
    var live = false
}

/// The mutable state of one scenario run.
struct Run {
    let catalog: Catalog
    /// Catalog versions 1, 2, 3 (`server-catalog`, `app-catalog`).
    let versions: [Catalog]
    let folder: URL
    let course: CourseID
    var serverURL: URL
    var devices: [String: ScenarioDevice] = [:]
    /// The last backup of each device.
    var backups: [String: DeviceStore] = [:]
    var failures: [String] = []

    mutating func device(_ name: String?) throws -> ScenarioDevice {
        guard let name else { throw ScenarioFailure(message: "the step names no device") }
        if let device = devices[name] { return device }
        let clock = OffsetWallClock()
        return try add(name, store: try DeviceStore(path: folder.appendingPathComponent("\(name).sqlite").path, catalog: catalog, clock: clock), clock: clock)
    }

    /// A device on `store`, with its own network link.
    mutating func add(_ name: String, store: DeviceStore, clock: OffsetWallClock) throws -> ScenarioDevice {
        let network = SwitchableTransport(serverURL)
        let link = FaultyTransport(network, faults: Faults(), seed: 0)
        let client = LearnSyncClient(store: store, transport: link, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
        let device = ScenarioDevice(client: client, network: network, link: link, clock: clock)
        devices[name] = device
        return device
    }

    mutating func perform(_ step: ScenarioStep) async throws {
        if step.action == "clone" {
            guard let name = step.device, let from = step.from, let original = devices[from] else {
                throw ScenarioFailure(message: "clone needs device and from, an existing device")
            }
            let clock = OffsetWallClock()
            _ = try add(name, store: try original.client.store.snapshot(clock: clock), clock: clock)
            return
        }
        if step.action == "expect", let name = step.device, devices[name] == nil {
            throw ScenarioFailure(message: "no device \(name) yet: an expect step checks a device an earlier step made")
        }
        let device = try device(step.device)
        let client = device.client
        switch step.action {
        case "record": try await client.record(try payload(step, catalog: client.catalog), in: course)
        case "app-catalog":
            guard let version = step.version, versions.indices.contains(version - 1) else {
                throw ScenarioFailure(message: "version must be 1 to \(versions.count)")
            }
            try await client.store.setBundledCatalog(try Self.variant(of: versions[version - 1], step))
        case "backup": backups[step.device ?? ""] = try client.store.snapshot()
        case "restore":
            guard let backup = backups[step.device ?? ""] else { throw ScenarioFailure(message: "no backup of this device") }
            // The app starts again on the restored store, live again if it was.
            if device.live { await client.stopSync() }
            let restored = LearnSyncClient(
                store: try backup.snapshot(clock: device.clock), transport: device.link,
                retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
            devices[step.device ?? ""]?.client = restored
            if device.live { try restored.startSync(.simulated) }
        case "sync": try await client.sync()
        case "signup": try await client.signUp(username: step.username ?? "", password: step.password ?? "")
        case "login": try await client.signIn(username: step.username ?? "", password: step.password ?? "")
        case "logout": try await client.signOut(force: step.force ?? false, everywhere: step.everywhere ?? false)
        case "delete-account": try await client.deleteAccount(password: step.password)
        case "offline": device.link.setOffline(true)
        case "online": device.link.setOffline(false)
        case "clock": device.clock.setOffset(milliseconds: Int64(step.offsetMinutes ?? 0) * 60_000)
        case "live-start":
            try client.startSync(.simulated)
            devices[step.device ?? ""]?.live = true
        case "live-stop":
            await client.stopSync()
            devices[step.device ?? ""]?.live = false
        case "expect":
            // A live device's arrivals come when they come: check again until the deadline.
            let deadline = ContinuousClock.now + .milliseconds(step.within ?? 0)
            while true {
                do {
                    return try await check(step.expect, on: device, name: step.device ?? "")
                } catch let failure as ScenarioFailure where !failure.isFinal && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
        default: throw ScenarioFailure(message: "unknown action \(step.action)")
        }
    }

    /// A catalog version as a step asks for it: whole, with its newest versions only, or with an
    /// answer key corrected without a new version number.
    static func variant(of catalog: Catalog, _ step: ScenarioStep) throws -> Catalog {
        var courses = step.newestOnly == true ? catalog.courses : catalog.allVersions
        if step.corrected == true {
            courses = courses.map { course in catalog[course.id]?.version == course.version ? CatalogVersions.corrected(course) : course }
        }
        return try Catalog(courses)
    }

    func payload(_ step: ScenarioStep, catalog: Catalog) throws -> EventPayload {
        if step.reset == true { return .courseReset() }
        if let lesson = step.lesson, let seconds = step.seconds { return .timeSpent(lesson: lesson, seconds: seconds) }
        if let lesson = step.lesson {
            switch step.status {
            case "started": return .lessonStarted(lesson: lesson)
            case "completed": return .lessonCompleted(lesson: lesson)
            default: throw ScenarioFailure(message: "a lesson's status is \"started\" or \"completed\", not \(step.status.map { "\"\($0)\"" } ?? "missing")")
            }
        }
        if let scenario = step.scenario, let choice = step.choice { return .scenarioChoice(scenario: scenario, choice: choice) }
        if let quizID = step.quiz {
            guard let quiz = catalog[course]?.quiz(quizID) else { throw ScenarioFailure(message: "unknown quiz \(quizID)") }
            switch step.answers ?? .correct {
            case .correct: return .quizAttempt(quiz: quizID, answers: quiz.questions.map(\.answer))
            case .wrong:
                return .quizAttempt(quiz: quizID, answers: quiz.questions.map { q in q.options.first { $0.id != q.answer }?.id ?? q.answer })
            case .list(let answers): return .quizAttempt(quiz: quizID, answers: answers)
            }
        }
        throw ScenarioFailure(message: "a record step needs lesson, quiz, scenario+choice, lesson+seconds or reset")
    }

    func check(_ expectation: Expectation?, on device: ScenarioDevice, name: String) async throws {
        // The device's own catalog: the rule of the newest version it knows.
        guard let expectation, let course = device.client.catalog[course] else { throw ScenarioFailure(message: "an expect step needs `expect`") }
        let progress = try await device.client.progress(in: course.id)
        var problems = [String]()
        func compare<T: Equatable>(_ what: String, _ expected: T?, _ actual: T) {
            if let expected, expected != actual { problems.append("\(what): expected \(expected), got \(actual)") }
        }
        for lesson in (expectation.lessons ?? [:]).keys.sorted() where course.lesson(ItemID(unchecked: lesson)) == nil {
            throw ScenarioFailure(message: "lesson \(lesson): the course has no such lesson", isFinal: true)
        }
        if let other = expectation.sameAs, devices[other] == nil {
            throw ScenarioFailure(message: "no device \(other) yet: sameAs names a device an earlier step made", isFinal: true)
        }
        for (lesson, status) in expectation.lessons ?? [:] {
            compare("lesson \(lesson)", status, progress.status(of: ItemID(unchecked: lesson)).description)
        }
        compare("completed lessons", expectation.completedLessons, progress.lessons.values.filter { $0.status == .completed }.count)
        let quiz = course.quizzes.first.flatMap { progress.quizzes[$0.id] }
        compare("quiz attempts", expectation.quizAttempts, quiz?.attempts ?? 0)
        compare("quiz passed", expectation.quizPassed, quiz?.passed ?? false)
        compare("best score", expectation.bestScore, quiz?.bestScore ?? 0)
        compare("scenario choice", expectation.scenarioChoice, course.scenarios.first.flatMap { progress.scenarios[$0.id]?.current } ?? "none")
        compare("seconds spent", expectation.secondsSpent, progress.secondsSpent)
        compare("event count", expectation.eventCount, progress.eventCount)
        compare("certificate", expectation.certificate, progress.certificate(for: course).isEligible)
        compare("certificate earned", expectation.certificateEarned, progress.certificate(for: course).isEarned)
        compare("pending", expectation.pending, try await device.client.pendingCount())
        compare("rejected", expectation.rejected, try await device.client.rejectedEvents().count)
        compare("guest", expectation.guest, try await device.client.identity().learner.isGuest)
        compare("catalog conflicts", expectation.catalogConflicts, device.client.catalogConflicts.count)
        if let other = expectation.sameAs {
            guard let peer = devices[other] else { throw ScenarioFailure(message: "unknown device \(other)") }
            if try await peer.client.progress(in: course.id) != progress { problems.append("progress differs from \(other)'s") }
        }
        if !problems.isEmpty { throw ScenarioFailure(message: problems.joined(separator: "; ")) }
    }
}
