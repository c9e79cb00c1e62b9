import ArgumentParser
import Foundation
import LearnSync
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Username, password source and server, shared by signup and login.
struct CredentialOptions: ParsableArguments {
    @Option(help: "The server URL (https://, or http:// to this machine).") var server: String
    @Flag(help: "Allow plain http:// to another host: passwords and tokens cross the network in the clear.") var insecure = false
    @Option(help: "The username (a-z, 0-9, '.', '_', '-').") var username: String
    @Flag(help: "Read the password from the first line of standard input instead of a prompt.")
    var passwordStdin = false

    func password() throws -> String { try readPassword(fromStdin: passwordStdin, prompt: "Password: ") }

    /// Signs up or in on `device` and prints what happened.
    func authenticate(_ device: DeviceOptions, signUp: Bool) async throws {
        let client = try await device.client(server: try serverURL(server, insecure: insecure))
        let password = try password()
        let account = signUp
            ? try await client.signUp(username: username, password: password)
            : try await client.signIn(username: username, password: password)
        print("signed \(signUp ? "up" : "in") as \(username) (\(account)); guest progress attached and synced")
    }
}

struct SignUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signup", abstract: "Create an account and attach this device's guest progress to it.")
    @OptionGroup var device: DeviceOptions
    @OptionGroup var credentials: CredentialOptions

    func run() async throws { try await credentials.authenticate(device, signUp: true) }
}

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Sign in; this device's guest progress merges into the account.")
    @OptionGroup var device: DeviceOptions
    @OptionGroup var credentials: CredentialOptions

    func run() async throws { try await credentials.authenticate(device, signUp: false) }
}

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "Sync, revoke the token and remove the account's data from this device.")
    @OptionGroup var device: DeviceOptions
    @Flag(help: "Sign out even if pending events cannot be synced, or a guest's progress is in no account (it is lost to you).")
    var force = false
    @Flag(help: "Revoke every token of the account: every device must sign in again (they keep their data).")
    var everywhere = false

    func run() async throws {
        let client = try await device.client()
        try await client.signOut(force: force, everywhere: everywhere)
        print("signed out\(everywhere ? " everywhere" : ""); this device is now a new guest with no data")
    }
}

/// Reads one password: the next line of standard input, or a prompt with echo off.
func readPassword(fromStdin: Bool, prompt: String) throws -> String {
    if fromStdin {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("no password on standard input")
        }
        return line
    }
    guard let pointer = getpass(prompt) else { throw ValidationError("could not read the password") }
    return String(cString: pointer)
}
