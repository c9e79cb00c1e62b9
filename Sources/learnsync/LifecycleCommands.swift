import ArgumentParser
import Foundation
import LearnSync

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Erase the learner's data or change the account's password.",
        subcommands: [DeleteAccountCommand.self, PasswordCommand.self])
}

struct DeleteAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Erase the account (or this device's guest) from the server for good, then from this device.",
        discussion: """
            Removes the account, every guest attached to it, all their events and tokens in one \
            transaction; the server keeps only a tombstone of the random ids. Other devices of the \
            learner remove their copy at their next sync. An account's password is asked again.
            """)
    @OptionGroup var device: DeviceOptions
    @Flag(help: "Read the password from the first line of standard input instead of a prompt.")
    var passwordStdin = false

    func run() async throws {
        let client = try await device.client()
        let isGuest = try await client.identity().learner.isGuest
        let password = isGuest ? nil : try readPassword(fromStdin: passwordStdin, prompt: "Password (to erase the account): ")
        let erased = try await client.deleteAccount(password: password)
        print("erased \(erased.learner) from the server: \(erased.events) events, \(erased.guests) attached guests; this device is a new guest with no data")
    }
}

struct PasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password", abstract: "Change the account's password; every other device must sign in again.")
    @OptionGroup var device: DeviceOptions
    @Flag(help: "Read the current and the new password from the first two lines of standard input.")
    var passwordStdin = false

    func run() async throws {
        let client = try await device.client()
        let current = try readPassword(fromStdin: passwordStdin, prompt: "Current password: ")
        let new = try readPassword(fromStdin: passwordStdin, prompt: "New password: ")
        try await client.changePassword(current: current, new: new)
        print("password changed; every other device of the account must sign in again")
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write everything held about the learner as JSON or as xAPI 1.0.3 statements.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, xapi
    }

    enum Source: String, ExpressibleByArgument, CaseIterable {
        case device, server
    }

    @OptionGroup var device: DeviceOptions
    @Option(help: "json (the learner, every event, the merged progress) or xapi (statements).") var format = Format.json
    @Option(help: "device (what this device holds, works offline) or server (what the server holds).") var from = Source.device
    @Option(help: ArgumentHelp("Write to this file instead of standard output (created 0600).", valueName: "file")) var output: String?

    func run() async throws {
        let client = try await device.client()
        if from == .server, let output {
            // Streamed to the file as it arrives: a long log's export need not fit in memory.
            try await client.serverExport(format == .json ? .json : .xapi, to: URL(fileURLWithPath: output))
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            print("wrote \(size) bytes to \(output)")
            return
        }
        let data: Data
        switch (from, format) {
        case (.server, .json): data = try Output.json(try await client.serverExport())
        case (.server, .xapi): data = try Output.json(try await client.serverStatements())
        case (.device, .json): data = try Output.json(try await client.exportData())
        case (.device, .xapi): data = try Output.json(try await client.exportStatements())
        }
        guard let output else {
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
            return
        }
        guard FileManager.default.createFile(atPath: output, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(output)")
        }
        print("wrote \(data.count) bytes to \(output)")
    }
}
