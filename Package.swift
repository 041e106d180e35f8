// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "spanway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "spanway", targets: ["spanway"]),
        .library(name: "Proxy", targets: ["Proxy"]),
    ],
    dependencies: [
        // `traits: []` stops SwiftPM 6.3 from reordering trait flags and rebuilding at random.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "Telemetry",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ],
            resources: [
                .copy("Resources/model_prices_and_context_window.json"),
                .copy("Resources/LICENSE.litellm"),
            ]
        ),
        .target(
            name: "Store",
            dependencies: [
                "Telemetry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The PostgreSQL `GatewayStore`, apart so the store module does not pull in postgres-nio.
        .target(
            name: "PostgresStore",
            dependencies: [
                "Store",
                "Telemetry",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Sinks",
            dependencies: [
                "Telemetry",
                "Store",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Evaluations",
            dependencies: [
                "Telemetry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Byte-level BPE (OpenAI's `.tiktoken` encodings) for counting prompt tokens.
        .target(
            name: "Tokenizers",
            dependencies: [
                "Telemetry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Proxy",
            dependencies: [
                "Telemetry",
                "Tokenizers",
                "Evaluations",
                "Sinks",
                "Store",
                "PostgresStore",
                "Redis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A RESP2 Redis client over swift-nio for limits shared across replicas (no Swift Redis client is
        // in the package mirror).
        .target(
            name: "Redis",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "spanway",
            dependencies: [
                "Proxy",
                "Evaluations",
                "Store",
                "PostgresStore",
                "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "router-benchmark", dependencies: ["Proxy", "Telemetry"], path: "Benchmarks/RouterBenchmark"
        ),
        .executableTarget(
            name: "hotpath-benchmark",
            dependencies: [
                "Proxy", "Sinks", "Store", "Telemetry",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HotPathBenchmark"
        ),
        // Test support. OTLP types generated from `.proto` files, to decode what the hand-written
        // encoder sends; only tests use them, so SwiftProtobuf does not ship in `Sinks`.
        .target(
            name: "OTLPProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Tests/Support/OTLPProto",
            exclude: ["proto", "generate.sh"]
        ),
        // Finished spans built in one line, and a strict Prometheus text parser for metrics checks.
        .target(name: "TelemetryTesting", dependencies: ["Telemetry"], path: "Tests/Support/TelemetryTesting"),
        // Helpers for tests that drive a gateway: test servers that fail instead of hanging, a client,
        // fake transports, a store whose spend writes fail, fixed test times.
        .target(
            name: "GatewayTesting",
            dependencies: [
                "Proxy", "Store", "Telemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/Support/GatewayTesting"
        ),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "TelemetryTesting"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Telemetry"]),
        .testTarget(name: "SinksTests", dependencies: ["Sinks", "Telemetry", "OTLPProto", "TelemetryTesting"]),
        // Headless Chromium for the tests that open the HTML reports.
        .target(name: "BrowserTesting", path: "Tests/Support/BrowserTesting"),
        .testTarget(name: "EvaluationsTests", dependencies: ["Evaluations", "Telemetry", "BrowserTesting"]),
        .testTarget(
            name: "RedisTests",
            dependencies: [
                "Redis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "PostgresStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "ProxyTests",
            dependencies: [
                "Proxy",
                "GatewayTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"]
        ),
        // Bounded mutation fuzzing (see Tests/FuzzTests/Fuzzer.swift); seeds and crash inputs are
        // read from the source tree.
        .testTarget(name: "FuzzTests", dependencies: ["Proxy", "Sinks", "Telemetry"], exclude: ["Corpus", "Crashes"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Proxy",
                "PostgresStore",
                "Redis",
                "Sinks",
                "Store",
                "Telemetry",
                "OTLPProto",
                "TelemetryTesting",
                "GatewayTesting",
                "BrowserTesting",
                "Evaluations",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
