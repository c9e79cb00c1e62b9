import Foundation
import GRDB
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTestSupport
import Testing

/// What the device file holds and who may read it.
@Suite struct DeviceFileTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("device-file-\(UUID().uuidString)/nested")

    func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func theFileAndItsCompanionsAreTheOwnersOnly() async throws {
        let path = folder.appendingPathComponent("device.sqlite").path
        let store = try DeviceStore(path: path, catalog: try SampleCatalog.load())
        try await store.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        #expect(try mode(folder.path) == 0o700)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            #expect(try mode(file) == 0o600, "\(file)")
        }
    }

    @Test func aTokenBelongsToTheServerThatIssuedIt() async throws {
        let store = try DeviceStore.inMemory(catalog: try SampleCatalog.load())
        try await store.setServer(URL(string: "https://one.example")!)
        try await store.setToken("token-of-server-one")
        try await store.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        _ = try await store.apply(SyncRoundResult(pushed: try await store.pendingEvents(limit: 10), pulled: [], aliases: [], cursor: 7))
        #expect(try await store.pendingCount() == 0)
        try await store.setServer(URL(string: "https://one.example/")!)
        #expect(try await store.syncState().token == "token-of-server-one", "the same server, with or without the slash, keeps its token")
        #expect(try await store.syncState().lastSyncAt != nil)
        try await store.setServer(URL(string: "https://two.example")!)
        let state = try await store.syncState()
        #expect(state.token == nil && state.cursor == 0)
        #expect(state.lastSyncAt == nil, "nothing has synced with the new server")
        #expect(try await store.pendingCount() == 1, "the new server holds none of the events: they are sent again")
    }

    /// A store another process holds locked cannot be opened: `busy` (the CLI's exit 75), not
    /// a database failure.
    @Test func aFileAnotherProcessHoldsLockedIsBusy() async throws {
        let path = folder.appendingPathComponent("locked.sqlite").path
        _ = try DeviceStore(path: path, catalog: try SampleCatalog.load())
        let catalog = try SampleCatalog.load()
        // Opened while another connection holds the file's exclusive lock.
        let code = try DatabaseQueue(path: path).inDatabase { db -> StorageError.Code? in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            defer { try? db.execute(sql: "ROLLBACK") }
            do {
                _ = try DeviceStore(path: path, catalog: catalog)
                return nil
            } catch {
                return (error as? StorageError)?.code
            }
        }
        #expect(code == .busy)
    }

    /// A folder or a file of something else given as the store's path is refused and left as it
    /// was.
    @Test func aPathThatIsNoDatabaseIsLeftAsItWas() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = folder.appendingPathComponent("notes.txt").path
        #expect(FileManager.default.createFile(atPath: text, contents: Data("hello".utf8), attributes: [.posixPermissions: 0o644]))
        #expect(throws: StorageError.self) { _ = try DeviceStore(path: text, catalog: try SampleCatalog.load()) }
        #expect(try mode(text) == 0o644)
        #expect(throws: StorageError.self) { _ = try DeviceStore(path: folder.path, catalog: try SampleCatalog.load()) }
    }

    @Test func signingOutWhileAnotherConnectionReadsFailsLoudlyThenSucceeds() async throws {
        let path = folder.appendingPathComponent("busy.sqlite").path
        let store = try DeviceStore(path: path, catalog: try SampleCatalog.load())
        try await store.setToken("a-token-that-must-not-stay-in-the-file")
        for _ in 0..<50 { try await store.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID) }
        let reader = try DatabasePool(path: path)
        var snapshot: DatabaseSnapshot? = try reader.makeSnapshot()
        await #expect(throws: StorageError.self) { try await store.wipe() }
        #expect(try await store.syncState().token == nil, "the tables are wiped even so")
        _ = snapshot
        snapshot = nil
        try reader.close()
        try await store.wipe()
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data("a-token-that-must-not-stay-in-the-file".utf8)) == nil, "\(file)")
        }
    }

    @Test func credentialsLiveInTheSecretStoreNotInTheDatabase() async throws {
        let path = folder.appendingPathComponent("secrets.sqlite").path
        let store = try DeviceStore(path: path, catalog: try SampleCatalog.load())
        try await store.setToken("bearer-token-kept-apart")
        let secret = try await store.deviceSecret()
        let database = try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(database.range(of: Data("bearer-token-kept-apart".utf8)) == nil)
        #expect(database.range(of: Data(secret.utf8)) == nil)
        #expect(try mode(path + ".secrets") == 0o600)
        // Reopened, the device still has them.
        let reopened = try DeviceStore(path: path, catalog: try SampleCatalog.load())
        #expect(try await reopened.syncState().token == "bearer-token-kept-apart")
        #expect(try await reopened.deviceSecret() == secret)
    }

    /// An app's own secret store (a Keychain) holds the credentials; the file holds none. (A
    /// file from before the secret store moves its credentials there: `DeviceMigrationTests`.)
    @Test func anAppPlugsInItsOwnSecretStore() async throws {
        let path = folder.appendingPathComponent("keychain.sqlite").path
        let keychain = MemorySecretStore()
        let store = try DeviceStore(path: path, catalog: try SampleCatalog.load(), secrets: keychain)
        try await store.setToken("bearer-token-in-the-keychain")
        let secret = try await store.deviceSecret()
        #expect(try keychain.secret(.token) == "bearer-token-in-the-keychain")
        #expect(try keychain.secret(.deviceSecret) == secret)
        #expect(try await store.syncState().token == "bearer-token-in-the-keychain")
        #expect(!FileManager.default.fileExists(atPath: path + ".secrets"))
        let database = try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(database.range(of: Data("bearer-token-in-the-keychain".utf8)) == nil)
        try await store.wipe()
        #expect(try keychain.secret(.token) == nil)
        #expect(try keychain.secret(.deviceSecret) != secret)
    }
}

/// Progress is a function of the events and the catalog on every path: a store opened with
/// another bundled catalog (an app update) rebuilds what its rows hold.
@Suite struct BundledCatalogChangeTests {
    @Test func reopeningWithAnotherCatalogRebuildsProgress() async throws {
        let v1 = try SampleCatalog.load()
        let course = try #require(v1[SampleCatalog.courseID])
        var next = course
        next.version = course.version + 1
        next.lessons.append(Lesson(id: "added-required", title: "Added", body: ["New."]))
        next.certificate.requiredLessons.append("added-required")
        let onlyV2 = try Catalog([next])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString).sqlite").path
        do {
            let store = try DeviceStore(path: path, catalog: v1)
            for lesson in course.certificate.requiredLessons { try await store.record(.lessonCompleted(lesson: lesson), in: course.id) }
            let quiz = course.quizzes[0]
            try await store.record(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: course.version), in: course.id)
            #expect(try await store.progress(in: course.id).certificate(for: course).isEarned)
        }
        // The update ships version 2 alone: the device keeps version 1, so its attempt still
        // counts and the certificate earned under its rule stays earned; the new lesson is what
        // the current attempt misses.
        let updated = try DeviceStore(path: path, catalog: onlyV2)
        let progress = try await updated.progress(in: course.id)
        #expect(progress.certificate(for: next).isEarned)
        #expect(progress.certificate(for: next).missingLessons == ["added-required"])
        #expect(progress.quizzes[course.quizzes[0].id]?.passed == true)
        #expect(updated.catalog.course(course.id, version: course.version) == course)
        // An update that corrects version 2 without a new number changes what this device grades
        // with, as a fresh device would.
        var corrected = next
        corrected.title = "Corrected"
        let again = try DeviceStore(path: path, catalog: try Catalog([corrected]))
        #expect(again.catalog[course.id]?.title == "Corrected")
    }
}
