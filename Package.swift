// swift-tools-version:6.2
import PackageDescription

/// Upcoming features that keep dependencies from leaking: only deliberate `public import`s are visible to users.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The client's modules: `LearnSync` re-exports only chosen types, so targets inside the package
/// that use the plumbing (`package` declarations) depend on these directly.
let clientModules: [Target.Dependency] = ["LearnSync", "LearnSyncModels", "LearnSyncMerge", "LearnSyncStorage", "LearnSyncProtocol"]

/// The server, the CLI, the benchmarks and the tests need the `Server` trait (`--traits Server`;
/// `Tools/*` pass it). Without it, an app that depends on the `LearnSync` product resolves and
/// fetches GRDB alone: every other package is needed only under this condition.
let server = TargetDependencyCondition.when(traits: ["Server"])

/// Tests import what they use without the member-visibility ceremony.
let testSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "LearnSync",
    // The lowest the code supports: its locks are the standard library's `Mutex`.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        // What an app links (the client), what an app's tests link (client-only helpers), what an
        // operator embeds (the server and its PostgreSQL store), and the CLI. The other modules are
        // plumbing, reached through these.
        .library(name: "LearnSync", targets: ["LearnSync"]),
        .library(name: "LearnSyncTestSupport", targets: ["LearnSyncTestSupport"]),
        .library(name: "LearnSyncServer", targets: ["LearnSyncServer"]),
        .library(name: "LearnSyncPostgres", targets: ["LearnSyncPostgres"]),
        .executable(name: "learnsync", targets: ["learnsync"]),
    ],
    traits: [
        .trait(name: "Server", description: "The server, the CLI, the benchmarks and the tests, with their dependencies"),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // `swift package generate-documentation` (Tools/docs; CI builds the DocC catalogs).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        .target(name: "LearnSyncModels", swiftSettings: swiftSettings),
        .target(name: "LearnSyncMerge", dependencies: ["LearnSyncModels"], swiftSettings: swiftSettings),
        .target(
            name: "LearnSyncStorage",
            dependencies: ["LearnSyncModels", "LearnSyncMerge", "LearnSyncSQLite", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // What the device and server stores share on GRDB: cached immediate transactions, and
        // binding an event's columns with SQLite's C API.
        .target(
            name: "LearnSyncSQLite",
            dependencies: [
                "LearnSyncModels", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The system zlib (Debian's zlib1g-dev), for gzip bodies on both sides of the protocol.
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        // A fault-injecting SQLite VFS for the disk-full and I/O-error tests; no product links it.
        .target(name: "SQLiteFaults", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(name: "LearnSyncProtocol", dependencies: ["LearnSyncModels", "LearnSyncMerge", "CZlib"], swiftSettings: swiftSettings),
        .target(
            name: "LearnSync",
            dependencies: ["LearnSyncModels", "LearnSyncMerge", "LearnSyncStorage", "LearnSyncProtocol"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LearnSyncServer",
            dependencies: [
                "LearnSyncModels", "LearnSyncMerge", "LearnSyncProtocol", "LearnSyncSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird", condition: server),
                .product(name: "HummingbirdCore", package: "hummingbird", condition: server),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth", condition: server),
                .product(name: "Crypto", package: "swift-crypto", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: server),
                .product(name: "NIOCore", package: "swift-nio", condition: server),
                .product(name: "NIOPosix", package: "swift-nio", condition: server),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: server),
                .product(name: "HTTPTypes", package: "swift-http-types", condition: server),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras", condition: server),
                .product(name: "CoreMetrics", package: "swift-metrics", condition: server),
                .product(name: "Metrics", package: "swift-metrics", condition: server),
                .product(name: "Prometheus", package: "swift-prometheus", condition: server),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LearnSyncPostgres",
            dependencies: [
                "LearnSyncModels", "LearnSyncProtocol", "LearnSyncServer", "LearnSyncSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: server),
                .product(name: "NIOSSL", package: "swift-nio-ssl", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: server),
                .product(name: "Metrics", package: "swift-metrics", condition: server),
            ],
            swiftSettings: swiftSettings
        ),
        // Client-only test support: clocks, faulty transports, seeded generators, convergence
        // checks, the simulator and the sample course. No server code.
        .target(
            name: "LearnSyncTestSupport",
            dependencies: clientModules,
            resources: [.embedInCode("Resources/customer-privacy.json")],
            swiftSettings: swiftSettings
        ),
        // Server-backed test helpers: embedded and multi-process servers, PostgreSQL clusters, and
        // the scenario runner (it starts embedded servers).
        .target(
            name: "LearnSyncTesting",
            dependencies: [
                "LearnSyncTestSupport",
                "LearnSyncServer", "LearnSyncPostgres",
                .product(name: "Hummingbird", package: "hummingbird", condition: server),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
            ] + clientModules,
            // The shipped scenarios, built into the binary (`learnsync scenario run --builtin`).
            resources: [.embedInCode("Scenarios")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "learnsync",
            dependencies: [
                "LearnSyncServer",
                "LearnSyncPostgres", "LearnSyncTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: server),
                .product(name: "NIOCore", package: "swift-nio", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
            ] + clientModules,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "learnsync-bench",
            dependencies: [
                "LearnSyncServer",
                "LearnSyncPostgres", "LearnSyncTesting",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: server),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird", condition: server),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
                .product(name: "Crypto", package: "swift-crypto", condition: server),
            ] + clientModules,
            swiftSettings: swiftSettings
        ),
        // The public API as an app meets it: `import LearnSync` only, member imports strict.
        .testTarget(
            name: "LearnSyncAPITests", dependencies: ["LearnSync"],
            swiftSettings: testSettings + [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        .testTarget(name: "LearnSyncModelsTests", dependencies: ["LearnSyncModels", "LearnSyncTestSupport"], swiftSettings: testSettings),
        .testTarget(name: "LearnSyncMergeTests", dependencies: ["LearnSyncMerge", "LearnSyncTestSupport"], swiftSettings: testSettings),
        .testTarget(
            name: "LearnSyncStorageTests",
            dependencies: ["LearnSyncStorage", "LearnSyncSQLite", "LearnSyncTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "LearnSyncServerTests",
            dependencies: [
                "LearnSyncServer", "LearnSyncPostgres", "LearnSyncTesting", "LearnSync",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird", condition: server),
                .product(name: "HummingbirdTesting", package: "hummingbird", condition: server),
            ],
            swiftSettings: testSettings
        ),
        // The CLI as a user runs it: parsing, exit codes, the built binary, scenario files.
        .testTarget(
            name: "LearnSyncCLITests",
            dependencies: [
                "learnsync", "LearnSyncTesting", "LearnSyncServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: server),
            ] + clientModules,
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "LearnSyncTests",
            dependencies: [
                "LearnSyncServer",
                "LearnSyncTesting", "learnsync", "SQLiteFaults",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird", condition: server),
                .product(name: "HummingbirdTesting", package: "hummingbird", condition: server),
            ] + clientModules,
            swiftSettings: testSettings
        ),
    ]
)
