// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SupportBot",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "supportbot", targets: ["supportbot"]),
        .library(name: "SupportBotCore", targets: ["SupportBotCore"]),
        .library(name: "SupportBotStore", targets: ["SupportBotStore"]),
        .library(name: "SupportBotServer", targets: ["SupportBotServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "SupportBotCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "SupportBotStore",
            dependencies: ["SupportBotCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "SupportBotServer",
            dependencies: [
                "SupportBotCore",
                "SupportBotStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The browser files are compiled into the binary: `supportbot` stays one file to copy.
            resources: [
                .embedInCode("Web/index.html"), .embedInCode("Web/demo.css"),
                .embedInCode("Web/widget.js"), .embedInCode("Web/widget.css"),
                .embedInCode("Web/agent.html"), .embedInCode("Web/agent.js"), .embedInCode("Web/agent.css"),
            ]
        ),
        .executableTarget(
            name: "supportbot",
            dependencies: [
                "SupportBotCore",
                "SupportBotStore",
                "SupportBotServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "SupportBotCoreTests", dependencies: ["SupportBotCore"]),
        .testTarget(name: "SupportBotStoreTests", dependencies: ["SupportBotStore"]),
        .testTarget(
            name: "SupportBotServerTests",
            dependencies: [
                "SupportBotServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
