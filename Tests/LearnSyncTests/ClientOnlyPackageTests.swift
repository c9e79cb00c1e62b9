import Foundation
import LearnSyncTesting
import Testing

/// An app that depends on the `LearnSync` product, as the README shows, resolves and fetches
/// GRDB and nothing of the server, and builds: the client compiles without the `Server` trait.
@Suite(.tags(.slow)) struct ClientOnlyPackageTests {
    @Test func anAppOfTheClientProductResolvesGRDBAloneAndBuilds() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let app = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-app-\(UUID().uuidString.prefix(8))")
        let sources = app.appendingPathComponent("Sources/App")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: app) }
        try """
            // swift-tools-version:6.2
            import PackageDescription

            let package = Package(
                name: "App",
                platforms: [.macOS(.v15), .iOS(.v18)],
                dependencies: [.package(path: "\(root.path)")],
                targets: [.executableTarget(name: "App", dependencies: [.product(name: "LearnSync", package: "\(root.lastPathComponent)")])]
            )
            """.write(to: app.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try """
            import LearnSync

            let client = LearnSyncClient(store: try DeviceStore.inMemory(catalog: Catalog([])), transport: nil)
            print(try await client.identity().learner.isGuest)
            """.write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)

        _ = try await ChildProcess.run(["swift", "package", "--package-path", app.path, "resolve"])
        let resolved = try String(contentsOf: app.appendingPathComponent("Package.resolved"), encoding: .utf8)
        let identities = resolved.split(separator: "\n").filter { $0.contains("\"identity\"") }
            .map { $0.split(separator: ":")[1].trimmingCharacters(in: CharacterSet(charactersIn: " \",")) }
        #expect(identities == ["grdb.swift"], "the app resolved \(identities)")
        let checkouts = try FileManager.default.contentsOfDirectory(atPath: app.appendingPathComponent(".build/checkouts").path)
        #expect(checkouts == ["GRDB.swift"], "the app fetched \(checkouts)")

        let printed = try await ChildProcess.run(["swift", "run", "--package-path", app.path, "App"])
        #expect(printed.hasSuffix("true\n"), "\(printed)")
    }
}
