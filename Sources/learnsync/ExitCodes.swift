import ArgumentParser
import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncStorage

/// `learnsync`'s exit codes (sysexits.h values where one fits), documented in the README and in
/// `learnsync --help`.
enum ExitCodes {
    /// A check failed: a scenario, a simulation or the demo did not converge; or an unexpected error.
    static let failed: Int32 = 1
    /// A usage error: a bad option or id, no server configured (ArgumentParser's own code).
    static let usage: Int32 = 64
    /// Refused: the server refused the request (wrong password, erased learner, ...), the
    /// device refused an event (unknown course or item), or a course file is not valid.
    static let refused: Int32 = 65
    /// The server did not answer, after the retries.
    static let unreachable: Int32 = 69
    /// The device's files could not be read or written.
    static let storage: Int32 = 74
    /// Try again later: the device file is busy (another process holds it), or the server asked
    /// to wait longer than the retries do (its disk full or failing, too many attempts).
    static let busy: Int32 = 75
    /// The server answered something that is not the protocol.
    static let badAnswer: Int32 = 76
    /// `serve` could not start with its configuration: a catalog that changes a version it served
    /// before, a database it cannot open, an address it cannot bind.
    static let configuration: Int32 = 78

    /// Every exit code with what it means: `learnsync --help` prints these, and a test checks the
    /// README's table against them.
    static let meanings: [(code: Int32, meaning: String)] = [
        (0, "done"),
        (failed, "a check failed (scenario, simulation, demo), or an unexpected error"),
        (usage, "usage: a bad option or id (caught while parsing, with the usage help), no server configured"),
        (refused, "refused: by the server (wrong password, erased learner, ...), an event the catalog does not know, or an invalid course file"),
        (unreachable, "the server did not answer, after the retries"),
        (storage, "the device's files could not be read or written"),
        (busy, "try again later: the device file is busy, or the server asked to wait longer than the retries do"),
        (badAnswer, "the server's answer was not the protocol"),
        (configuration, "`serve` could not start with its configuration: a catalog that changes a course version it served before, a database it cannot open, an address it cannot bind"),
    ]

    static let help = "Exit codes: " + meanings.map { "\($0.code) \($0.meaning)" }.joined(separator: "; ") + "."

    /// The exit code for an error a command threw; nil for ArgumentParser's own errors and exit codes.
    static func code(for error: any Error) -> Int32? {
        switch error {
        case let error as SyncError where error.problem?.knownCode == .storageFailed:
            // The server's disk is full or failing and it asked to wait (503, Retry-After).
            busy
        case let error as SyncError where error.code == .notSynced && (error.cause as? SyncError)?.code == .unreachable:
            // A sign-out that could not push what only this device holds: the server did not answer.
            unreachable
        case let error as SyncError:
            switch error.code {
            case .noServer: usage
            case .unreachable: unreachable
            case .rateLimited: busy
            case .badAnswer: badAnswer
            default: refused
            }
        case let error as StorageError:
            switch error.code {
            case .invalidEvent, .notFound, .signedOut: refused
            case .busy: busy
            default: storage
            }
        case let error as ModelError where error.code == .invalidCatalog:
            // EX_DATAERR: a course file the command was given is not a valid course.
            refused
        case is ServerError: configuration
        default: nil
        }
    }
}

extension LearnSyncCommand {
    /// Runs the command; an error of the sync or the device store prints one line on standard
    /// error and exits with its own code (see ``ExitCodes``).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            guard let code = ExitCodes.code(for: error) else { exit(withError: error) }
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(withError: ExitCode(code))
        }
    }
}
