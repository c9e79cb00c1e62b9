import ArgumentParser
import Foundation
import LearnSyncProtocol
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTesting
import Testing
@testable import learnsync

/// The CLI, in process (parsing and running commands) and as the built executable against a
/// real loopback server.
@Suite(.serialized) struct CLITests {
    let folder: URL
    let catalog: Catalog

    init() throws {
        catalog = try SampleCatalog.load()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Runs a command in process.
    func run(_ arguments: [String]) async throws {
        var command = try LearnSyncCommand.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }

    @Test func recordsAndReadsProgressInProcess() async throws {
        let device = folder.appendingPathComponent("phone").path
        try await run(["record", "lesson", "--device", device, "--course", "customer-privacy", "--lesson", "keep-secure", "--completed"])
        try await run(["record", "quiz", "--device", device, "--course", "customer-privacy", "--quiz", "privacy-quiz", "--answers", "b,b,a,b,c,a,b,b,a"])
        try await run(["record", "time", "--device", device, "--course", "customer-privacy", "--lesson", "keep-secure", "--seconds", "90"])
        let store = try DeviceStore(path: device + "/device.sqlite", catalog: catalog)
        let progress = try await store.progress(in: "customer-privacy")
        #expect(progress.status(of: "keep-secure") == .completed)
        #expect(progress.quizzes["privacy-quiz"]?.passed == true)
        #expect(progress.secondsSpent == 90)
    }

    /// A device folder that existed with a wider mode is its owner's only once the CLI uses it,
    /// and the secrets file beside the database is too.
    @Test func theDeviceFolderAndItsSecretsAreTheOwnersOnly() async throws {
        let device = folder.appendingPathComponent("shared-folder")
        try FileManager.default.createDirectory(at: device, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try await run(["record", "lesson", "--device", device.path, "--course", "customer-privacy", "--lesson", "keep-secure", "--started"])
        let store = try DeviceStore(path: device.appendingPathComponent("device.sqlite").path, catalog: catalog)
        _ = try await store.deviceSecret()
        func mode(_ path: String) throws -> Int? { try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int }
        #expect(try mode(device.path) == 0o700)
        #expect(try mode(device.appendingPathComponent("device.sqlite.secrets").path) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: device.appendingPathComponent("device.sqlite.secrets.new").path))
    }

    @Test func refusesBadArgumentsWithAClearError() async throws {
        let device = folder.appendingPathComponent("bad").path
        #expect(throws: (any Error).self) {
            _ = try LearnSyncCommand.parseAsRoot(["record", "lesson", "--device", device, "--course", "c", "--lesson", "l"])
        }
        await #expect(throws: (any Error).self) {
            try await run(["record", "lesson", "--device", device, "--course", "customer-privacy", "--lesson", "no-such-lesson", "--started"])
        }
        await #expect(throws: (any Error).self) {
            try await run(["sync", "--device", device, "--server", "ftp://nowhere"])
        }
        // Plain http:// only to this machine, unless told --insecure.
        await #expect(throws: (any Error).self) {
            try await run(["sync", "--device", device, "--server", "http://learn.example.com"])
        }
        await #expect(throws: (any Error).self) {
            try await run(["signup", "--device", device, "--server", "http://10.1.2.3:8080", "--username", "x-user", "--password-stdin"])
        }
    }

    @Test func aFaultySimulationConverges() async throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("aFaultySimulationConverges seed: \(seed)")
        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("sim.sqlite").path, catalog: catalog, passwordCost: 4)
        let report = try await Simulation.run(
            SimulationOptions(devices: 4, learners: 2, ops: 300, seed: seed, faults: Faults(dropRequest: 0.05, dropAnswer: 0.05, duplicate: 0.1, reorder: 0.1), offline: 0.02),
            catalog: catalog, server: SimulatedServer(url: server.url))
        await server.stop()
        #expect(report.converged, "seed \(seed): \(report.lostDetails) \(report.regressionDetails) \(report.divergenceDetails)")
        #expect(report.events > 0)
    }

    @Test func theBuiltExecutableDrivesARealServer() async throws {
        let binary = try BuiltExecutable.url()
        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("exe.sqlite").path, catalog: catalog, passwordCost: 4)
        defer { Task { await server.stop() } }
        let phone = folder.appendingPathComponent("exe-phone").path, tablet = folder.appendingPathComponent("exe-tablet").path

        // A child process with its input and output in files, waited for off the concurrency
        // pool: `Process.waitUntilExit` can miss the exit of a child started from a concurrency
        // thread, and reading one pipe to its end while the child fills the other deadlocks.
        func cli(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, out: String, err: String) {
            let run = folder.appendingPathComponent("cli-\(UUID().uuidString)")
            var input: String?
            if let stdin {
                input = run.appendingPathExtension("in").path
                try Data(stdin.utf8).write(to: URL(fileURLWithPath: input!))
            }
            let child = try ChildProcess(
                [binary.path] + arguments, inputPath: input,
                outputPath: run.appendingPathExtension("out").path, errorPath: run.appendingPathExtension("err").path)
            return (try await child.exitCode(), child.output, child.errors)
        }

        let url = server.url.absoluteString
        #expect(try await cli(["record", "lesson", "--device", phone, "--course", "customer-privacy", "--lesson", "keep-secure", "--completed"]).status == 0)
        let signup = try await cli(["signup", "--device", tablet, "--server", url, "--username", "exe-user", "--password-stdin"], stdin: "a long password\n")
        #expect(signup.status == 0, "\(signup.err)")
        #expect(try await cli(["record", "lesson", "--device", tablet, "--course", "customer-privacy", "--lesson", "train-staff", "--completed"]).status == 0)
        #expect(try await cli(["sync", "--device", tablet]).status == 0)
        let login = try await cli(["login", "--device", phone, "--server", url, "--username", "exe-user", "--password-stdin"], stdin: "a long password\n")
        #expect(login.status == 0, "\(login.err)")
        let progress = try await cli(["progress", "--device", phone, "--json"])
        #expect(progress.status == 0)
        let reports = try JSONSerialization.jsonObject(with: Data(progress.out.utf8)) as? [[String: Any]]
        let lessons = (reports?.first?["progress"] as? [String: Any])?["lessons"] as? [String: Any]
        #expect(lessons?.keys.sorted() == ["keep-secure", "train-staff"])
        let status = try await cli(["status", "--device", phone, "--json"])
        #expect(status.out.contains("\"pending\" : 0"))
        #expect(try await cli(["status", "--device", phone]).out.contains("signed in  yes"))
        // Another server would end the account's session before anything is known of it: refused,
        // and the device keeps its server and token (the same server with a slash is the same).
        let elsewhere = try await cli(["login", "--device", phone, "--server", "http://127.0.0.1:1", "--username", "exe-user", "--password-stdin"], stdin: "x\n")
        #expect(elsewhere.status == 64 && elsewhere.err.contains("sign out first"), "\(elsewhere.err)")
        #expect(try await cli(["sync", "--device", phone, "--server", url + "/"]).status == 0)
        #expect(try await cli(["status", "--device", phone, "--json"]).out.contains("\"signedIn\" : true"))

        let wrong = try await cli(["login", "--device", folder.appendingPathComponent("exe-x").path, "--server", url, "--username", "exe-user", "--password-stdin"], stdin: "wrong password\n")
        #expect(wrong.status == 65, "a wrong password is refused")
        #expect(wrong.err.split(separator: "\n").count == 1, "one line on stderr: \(wrong.err)")
        #expect(!wrong.err.contains("wrong password"))
        let unknown = try await cli(["record", "lesson", "--device", phone, "--course", "customer-privacy", "--lesson", "nope", "--started"])
        #expect(unknown.status == 65)
        #expect(unknown.err.contains("unknown lesson"))

        // Export: to a file only its owner reads, as JSON from the server and xAPI from the device.
        let exportFile = folder.appendingPathComponent("export.json").path
        let export = try await cli(["export", "--device", phone, "--from", "server", "--output", exportFile])
        #expect(export.status == 0, "\(export.err)")
        let document = try WireCoding.decode(ExportDocument.self, from: Data(contentsOf: URL(fileURLWithPath: exportFile)))
        #expect(document.learner.username == "exe-user" && document.events.count == 2)
        let permissions = try FileManager.default.attributesOfItem(atPath: exportFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let xapi = try await cli(["export", "--device", phone, "--format", "xapi"])
        #expect(try WireCoding.decode(XAPIStatementResult.self, from: Data(xapi.out.utf8)).statements.count == 2)
        #expect(try await cli(["export", "--device", phone, "--format", "csv"]).status == 64)

        // Erasure from the phone; the tablet learns it at its next sync and says why.
        let wrongErase = try await cli(["account", "delete", "--device", phone, "--password-stdin"], stdin: "not the password\n")
        #expect(wrongErase.status == 65)
        let erase = try await cli(["account", "delete", "--device", phone, "--password-stdin"], stdin: "a long password\n")
        #expect(erase.status == 0, "\(erase.err)")
        #expect(erase.out.contains("erased"))
        let told = try await cli(["sync", "--device", tablet])
        #expect(told.status == 65 && told.err.contains("erased"), "\(told.err)")
        #expect(try await cli(["status", "--device", tablet]).out.contains("notice: "))
    }

    /// The README's table of exit codes is `ExitCodes.meanings`, which `--help` prints.
    @Test func theReadmeListsEveryExitCodeAsTheCLIDefinesIt() throws {
        let readme = try String(contentsOf: Fixtures.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let table = readme.components(separatedBy: "| code | meaning |\n|---|---|\n")[1].components(separatedBy: "\n\n")[0]
        let rows = table.split(separator: "\n").map { row in
            row.split(separator: "|", maxSplits: 2).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        #expect(rows.map { Int32($0[0]) } == ExitCodes.meanings.map(\.code))
        #expect(rows.map { $0[1] } == ExitCodes.meanings.map(\.meaning))
        #expect(ExitCodes.help.contains("78 `serve` could not start"))
    }
}
