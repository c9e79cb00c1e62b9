import Foundation
import LearnSyncModels
import LearnSyncServer
import LearnSyncTesting
import Testing

/// The built `learnsync`, copied out of the source tree and run from `/`: it still has its sample
/// course, prints enums as strings in JSON, and exits with the documented code for each failure.
@Suite final class CLIExitCodeTests {
    let folder: URL
    let binary: String

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-exit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        binary = folder.appendingPathComponent("learnsync").path
        // Copied by `cp`, not in this process: a file this process holds open for writing could
        // leak into a child another test spawns meanwhile, and exec would then fail with ETXTBSY.
        // Waited for off the concurrency pool: the suite's copies (150 MB each) waited for on
        // its two threads held the whole test run up for 11–25 s.
        _ = try await ChildProcess.run(["cp", try BuiltExecutable.url().path, binary])
    }

    /// Each test's copy of the binary (150 MB in a debug build) goes with its folder.
    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Runs the copied binary from `/` and returns its exit code and output.
    func cli(_ arguments: [String], stdin: String? = nil) async throws -> (code: Int32, out: String, err: String) {
        let quoted = ([binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        var input: String?
        if let stdin {
            input = folder.appendingPathComponent("in").path
            try Data(stdin.utf8).write(to: URL(fileURLWithPath: input!))
        }
        let child = try ChildProcess(
            ["/bin/sh", "-c", "cd / && exec env -u LEARNSYNC_CATALOG -u LEARNSYNC_DEVICE \(quoted)"], inputPath: input,
            outputPath: folder.appendingPathComponent("out").path, errorPath: folder.appendingPathComponent("err").path)
        return (try await child.exitCode(), child.output, child.errors)
    }

    @Test func aCopiedBinaryWorksFromAnyFolderWithDocumentedExitCodes() async throws {
        let device = folder.appendingPathComponent("device").path
        let courses = try await cli(["courses", "--json"])
        #expect(courses.code == 0, "\(courses.err)")
        #expect(courses.out.contains("\"customer-privacy\""))

        let recorded = try await cli(["record", "lesson", "--device", device, "--course", "customer-privacy", "--lesson", "keep-secure", "--completed"])
        #expect(recorded.code == 0, "\(recorded.err)")
        let progress = try await cli(["progress", "--device", device, "--course", "customer-privacy", "--json"])
        #expect(progress.out.contains(#""status" : "completed""#), "enums are strings in JSON")
        #expect(!progress.out.contains(#""status" : 2"#))

        // Usage errors, caught while parsing: a bad id gets the usage help.
        let badID = try await cli(["record", "lesson", "--device", device, "--course", "no spaces", "--lesson", "x", "--started"])
        #expect(badID.code == 64)
        #expect(badID.err.contains("Usage:"))
        #expect(try await cli(["sync", "--device", device]).code == 64, "no server configured")
        // Refused: an item the catalog does not know.
        let unknown = try await cli(["record", "lesson", "--device", device, "--course", "customer-privacy", "--lesson", "nope", "--started"])
        #expect(unknown.code == 65)
        #expect(unknown.err.split(separator: "\n").count == 1, "one line: \(unknown.err)")
        // --listen-database: a PostgreSQL --database only, and never through a transaction pooler.
        let listenOnFile = try await cli(["serve", "--database", device + ".sqlite", "--listen-database", "postgres://u@127.0.0.1:1/db"])
        #expect(listenOnFile.code == 64 && listenOnFile.err.contains("applies to a PostgreSQL --database only"), "\(listenOnFile.err)")
        let listenPooled = try await cli([
            "serve", "--database", "postgres://u@127.0.0.1:1/db?pool_mode=transaction",
            "--listen-database", "postgres://u@127.0.0.1:1/db?pool_mode=transaction",
        ])
        #expect(listenPooled.code == 64 && listenPooled.err.contains("must reach PostgreSQL itself"), "\(listenPooled.err)")
        // Unreachable: nothing listens on port 1.
        let unreachable = try await cli(["sync", "--device", device, "--server", "http://127.0.0.1:1"])
        #expect(unreachable.code == 69, "\(unreachable.err)")
        // A sign-out that cannot push what only this device holds: the server did not answer.
        let server = try await EmbeddedServer.start(
            databasePath: folder.appendingPathComponent("logout.sqlite").path, catalog: try SampleCatalog.load(), passwordCost: 4)
        let account = folder.appendingPathComponent("account").path
        let signup = try await cli([
            "signup", "--device", account, "--server", server.url.absoluteString, "--username", "exit-codes", "--password-stdin",
        ], stdin: "a long password\n")
        await server.stop()
        #expect(signup.code == 0, "\(signup.err)")
        #expect(try await cli(["record", "lesson", "--device", account, "--course", "customer-privacy", "--lesson", "keep-secure", "--started"]).code == 0)
        let logout = try await cli(["logout", "--device", account, "--timeout", "2"])
        #expect(logout.code == 69, "\(logout.err)")
        // Storage: a device folder that is a file.
        let file = folder.appendingPathComponent("a-file").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        let notAFolder = try await cli(["status", "--device", file])
        #expect(notAFolder.code == 74, "\(notAFolder.err)")
        #expect(notAFolder.err.contains("cannot use \(file) as the device folder"), "\(notAFolder.err)")
        // The default device folder is under $HOME.
        let home = folder.appendingPathComponent("home").path
        let child = try ChildProcess(
            ["/bin/sh", "-c", "cd / && HOME='\(home)' exec env -u LEARNSYNC_DEVICE -u LEARNSYNC_CATALOG '\(binary)' status"],
            outputPath: folder.appendingPathComponent("home.out").path, errorPath: folder.appendingPathComponent("home.err").path)
        #expect(try await child.exitCode() == 0, "\(child.errors)")
        #expect(FileManager.default.fileExists(atPath: home + "/.learnsync/device/device.sqlite"))
    }
}

extension CLIExitCodeTests {
    /// The binary that is also the production `serve` links no test library: nothing of
    /// HummingbirdTesting or the AsyncHTTPClient it brings (the test binary, for contrast, does).
    @Test func theServerBinaryLinksNoTestLibrary() async throws {
        let symbols = try await ChildProcess.run(["nm", binary])
        #expect(symbols.split(separator: "\n").count > 10_000, "nm read the binary")
        for library in ["HummingbirdTesting", "AsyncHTTPClient"] {
            #expect(!symbols.contains(library), "learnsync links \(library)")
        }
    }

    /// The shipped scenarios are built into the binary, and every one passes from a copy of it.
    @Test func theBuiltinScenariosPassFromACopiedBinary() async throws {
        let run = try await cli(["scenario", "run", "--builtin"])
        #expect(run.code == 0, "\(run.out)\(run.err)")
        #expect(run.out.hasSuffix("\(BuiltinScenarios.all.count) passed, 0 failed\n"), "\(run.out)")
        let none = try await cli(["scenario", "run"])
        #expect(none.code == 64 && none.err.contains("--builtin"), "\(none.err)")
    }

    /// A course file that is not a course names the file and the field, exit 65; what
    /// `courses --json` prints loads back.
    @Test func courseFilesLoadBackAndBrokenOnesSayWhere() async throws {
        let printed = try await cli(["courses", "--json"])
        let exported = folder.appendingPathComponent("exported.json")
        try printed.out.write(to: exported, atomically: true, encoding: .utf8)
        let again = try await cli(["courses", "--json", "--catalog", exported.path])
        #expect(again.code == 0, "\(again.err)")
        #expect(again.out == printed.out)

        let broken = folder.appendingPathComponent("broken.json")
        try #"{"id": "c", "title": "C", "lessons": [{"id": "l", "title": "L", "body": []}, {"title": "no id", "body": []}], "certificate": {"requiredLessons": [], "requiredQuizzes": []}}"#
            .write(to: broken, atomically: true, encoding: .utf8)
        let refused = try await cli(["courses", "--catalog", broken.path])
        #expect(refused.code == 65, "\(refused.err)")
        #expect(refused.err.contains("\(broken.path): lessons[1].id: missing"), "\(refused.err)")
        #expect(refused.err.split(separator: "\n").count == 1, "\(refused.err)")
    }

    /// A server whose catalog changes a course version it served before refuses to start: one
    /// line naming the course and version, exit 78.
    @Test func serveRefusesACatalogThatChangesAServedVersion() async throws {
        let path = folder.appendingPathComponent("server.sqlite").path
        var served = try #require(try SampleCatalog.load()[SampleCatalog.courseID])
        served.title = "What the server served first"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        _ = try await SQLiteServerStore(path: path).keepCourses([
            StoredCourse(id: served.id.rawValue, version: served.version, content: try encoder.encode(served)),
        ])
        let refused = try await cli(["serve", "--port", "0", "--database", path])
        #expect(refused.code == 78, "\(refused.err)")
        #expect(refused.err.contains("course customer-privacy version 1 differs from the version 1 this server served before"))
    }
}

/// `serve` fails fast and clearly at start-up: one line and exit 78 for a taken port or a
/// PostgreSQL that does not answer, and a prompt, clean stop on SIGTERM while it waits for one.
extension CLIExitCodeTests {
    @Test func serveOnATakenPortSaysSoInOneLine() async throws {
        let listener = try await EmbeddedServer.start(
            databasePath: folder.appendingPathComponent("taken.sqlite").path, catalog: try SampleCatalog.load(), passwordCost: 4)
        defer { Task { await listener.stop() } }
        let port = try #require(listener.url.port)
        let refused = try await cli(["serve", "--port", "\(port)", "--database", folder.appendingPathComponent("second.sqlite").path])
        #expect(refused.code == 78, "\(refused.err)")
        #expect(refused.err.hasSuffix("Error: cannot listen on 127.0.0.1:\(port): Address already in use\n"), "\(refused.err)")
        #expect(!refused.err.contains("retention"), "\(refused.err)")
    }

    /// A mistyped `--database` (a folder, a file of something else) is refused as it is: its
    /// mode is not touched. An `--erasure-journal` that cannot be written stops start-up, rather
    /// than every erasure later.
    @Test func serveRefusesPathsItCannotUseAndTouchesNothing() async throws {
        let manager = FileManager.default
        let directory = folder.appendingPathComponent("not-a-database").path
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let text = folder.appendingPathComponent("notes.txt").path
        #expect(manager.createFile(atPath: text, contents: Data("hello\n".utf8), attributes: [.posixPermissions: 0o644]))
        for (path, reason) in [(directory, "it is a folder"), (text, "it is not a SQLite database")] {
            let refused = try await cli(["serve", "--port", "0", "--database", path])
            #expect(refused.code == 78, "\(refused.err)")
            #expect(refused.err.contains("cannot open the server database \(path): \(reason)"), "\(refused.err)")
            let mode = try manager.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == (path == directory ? 0o755 : 0o644), "\(path) was changed")
        }
        let journal = try await cli([
            "serve", "--port", "0", "--database", folder.appendingPathComponent("j.sqlite").path,
            "--erasure-journal", folder.appendingPathComponent("missing/erasures").path,
        ])
        #expect(journal.code == 78, "\(journal.err)")
        #expect(journal.err.contains("cannot write the erasure journal"), "\(journal.err)")
    }

    @Test func serveStopsAtOnceOnSIGTERMWhileWaitingForPostgreSQL() async throws {
        let unreachable = "postgres://learnsync@127.0.0.1:1/none?sslmode=disable"
        let started = ContinuousClock.now
        let child = try ChildProcess(
            [binary, "serve", "--port", "0", "--database", unreachable],
            outputPath: folder.appendingPathComponent("pg.out").path, errorPath: folder.appendingPathComponent("pg.err").path)
        // Once it waits for PostgreSQL: the pool's first failed connection is logged. (Before
        // its service group runs, SIGTERM's default action ends it, which is fine too.)
        _ = try await eventually(timeout: .seconds(10), every: .milliseconds(50)) { child.errors.contains("Connection creation failed") }
        let asked = ContinuousClock.now
        // `serve` gives up on PostgreSQL after 15 s: a test held up past that proves nothing.
        #expect(asked - started < .seconds(12), "the test itself was held up \(asked - started) before SIGTERM")
        child.terminate()
        let code = try await child.exitCode()
        let took = ContinuousClock.now - asked
        #expect(code == 0, "\(child.errors)")
        #expect(took < .seconds(5), "stopped \(took) after SIGTERM")
        #expect(child.errors.contains("stopped before it started"), "\(child.errors)")
    }

    @Test func serveGivesUpOnAPostgreSQLThatDoesNotAnswer() async throws {
        let failed = try await cli(["serve", "--port", "0", "--database", "postgres://learnsync@127.0.0.1:1/none?sslmode=disable"])
        #expect(failed.code == 78, "\(failed.err)")
        #expect(failed.err.hasSuffix("Error: PostgreSQL at 127.0.0.1:1 could not be reached within 15 s\n"), "\(failed.err)")
        #expect(!failed.err.contains("retention"), "\(failed.err)")
    }
}
