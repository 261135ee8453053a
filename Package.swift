// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "golem-sim",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "YagnaAPI", targets: ["YagnaAPI"]),
        .library(name: "YagnaHTTP", targets: ["YagnaHTTP"]),
        .library(name: "GolemTime", targets: ["GolemTime"]),
        .library(name: "GolemRequestor", targets: ["GolemRequestor"]),
        .library(name: "YagnaSimulator", targets: ["YagnaSimulator"]),
        .library(name: "SimulatorServer", targets: ["SimulatorServer"]),
        .library(name: "GolemRecording", targets: ["GolemRecording"]),
        .library(name: "GolemTesting", targets: ["GolemTesting"]),
        .library(name: "GolemExamples", targets: ["GolemExamples"]),
        .library(name: "GolemFidelity", targets: ["GolemFidelity"]),
        .library(name: "GolemBus", targets: ["GolemBus"]),
        .library(name: "GolemProvider", targets: ["GolemProvider"]),
        .executable(name: "golem-sim", targets: ["golem-sim"]),
        .executable(name: "gftp", targets: ["gftp"]),
        .executable(name: "hello-task", targets: ["hello-task"]),
        .executable(name: "many-tasks", targets: ["many-tasks"]),
        .executable(name: "file-transfer", targets: ["file-transfer"]),
        .executable(name: "simple-service", targets: ["simple-service"]),
        .executable(name: "file-service", targets: ["file-service"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", exact: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
    ],
    targets: [
        // Wire layer: models, JSON, the Transport protocol, typed clients. No NIO.
        .target(
            name: "YagnaAPI",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming
        ),
        // The HTTP transport on AsyncHTTPClient.
        .target(
            name: "YagnaHTTP",
            dependencies: [
                "YagnaAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // Injected clocks and the single-threaded virtual-time executor.
        .target(name: "GolemTime", swiftSettings: upcoming),
        .target(
            name: "GolemRequestor",
            dependencies: ["YagnaAPI", "GolemTime", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming
        ),
        // The simulated node: sans-I/O state machines, scenarios, the in-process transport.
        .target(
            name: "YagnaSimulator",
            dependencies: ["YagnaAPI", "GolemTime", .product(name: "Yams", package: "Yams")],
            swiftSettings: upcoming
        ),
        // The simulator's HTTP front end (Hummingbird).
        .target(
            name: "SimulatorServer",
            dependencies: [
                "YagnaAPI", "YagnaSimulator", "GolemTime", "GolemRecording",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "GolemRecording",
            dependencies: ["YagnaAPI", "YagnaSimulator", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: upcoming
        ),
        .target(
            name: "GolemExamples",
            dependencies: ["GolemRequestor", "YagnaAPI", "YagnaHTTP", "GolemTime"],
            swiftSettings: upcoming
        ),
        .target(
            name: "GolemTesting",
            dependencies: ["GolemRequestor", "YagnaSimulator", "YagnaAPI", "GolemTime", "GolemExamples", "GolemRecording"],
            swiftSettings: upcoming
        ),
        // The differential walk against a real yagna: requests, the provider's role, shape comparison.
        .target(
            name: "GolemFidelity",
            dependencies: ["YagnaAPI", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: upcoming
        ),
        // zlib from the system (yagna compresses service-bus bodies).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // yagna's service bus: the router protocol (protobuf, generated once and committed),
        // FlexBuffers bodies, zlib, and a connection an exe-unit holds.
        .target(
            name: "GolemBus",
            dependencies: [
                "YagnaAPI", "CZlib",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Proto/gsb_router.proto"],
            swiftSettings: upcoming
        ),
        // `golem-sim provide`: the scenario's providers on a real yagna node.
        .target(
            name: "GolemProvider",
            dependencies: [
                "GolemBus", "YagnaAPI", "YagnaSimulator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // The benchmark suite behind `golem-sim bench`.
        .target(
            name: "GolemBench",
            dependencies: [
                "YagnaAPI", "YagnaHTTP", "YagnaSimulator", "SimulatorServer", "GolemRecording", "GolemTesting", "GolemExamples", "GolemTime",
                "GolemRequestor",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "golem-sim",
            dependencies: [
                "GolemBench", "GolemFidelity", "GolemProvider", "GolemBus",
                "YagnaAPI", "YagnaSimulator", "SimulatorServer", "GolemRecording", "GolemTesting",
                "GolemExamples", "GolemTime", "GolemRequestor", "YagnaHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(name: "gftp", dependencies: ["YagnaSimulator"], swiftSettings: upcoming),
        .executableTarget(name: "hello-task", dependencies: ["GolemExamples", "YagnaHTTP"], swiftSettings: upcoming),
        .executableTarget(name: "many-tasks", dependencies: ["GolemExamples", "YagnaHTTP"], swiftSettings: upcoming),
        .executableTarget(name: "file-transfer", dependencies: ["GolemExamples", "YagnaHTTP"], swiftSettings: upcoming),
        .executableTarget(name: "simple-service", dependencies: ["GolemExamples", "YagnaHTTP"], swiftSettings: upcoming),
        .executableTarget(name: "file-service", dependencies: ["GolemExamples", "GolemRequestor", "YagnaHTTP"], swiftSettings: upcoming),
        .testTarget(
            name: "YagnaAPITests",
            dependencies: [
                "YagnaAPI", "YagnaHTTP", "SimulatorServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "GolemTests",
            dependencies: [
                "YagnaAPI", "YagnaHTTP", "GolemTime", "GolemRequestor", "YagnaSimulator", "SimulatorServer",
                "GolemRecording", "GolemTesting", "GolemExamples", "GolemFidelity", "GolemBus", "GolemProvider",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: upcoming
        ),
    ]
)
