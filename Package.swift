// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo

/// The balancer's per-request modules skip the runtime exclusivity checks in release builds (each
/// access to a class's stored property otherwise goes through the runtime's access set); debug
/// builds and tests keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "autoscaler",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "scale-up", targets: ["scale-up"]),
        .executable(name: "scale-down", targets: ["scale-down"]),
        .executable(name: "webserver", targets: ["webserver"]),
        .executable(name: "loadbalancer", targets: ["loadbalancer"]),
        .executable(name: "clientsim", targets: ["clientsim"]),
        .executable(name: "scheduler", targets: ["scheduler"]),
        .library(name: "AutoscalerAPI", targets: ["AutoscalerAPI"]),
        .library(name: "InstanceProviders", targets: ["InstanceProviders"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(
            name: "Libvirt",
            dependencies: [
                "CLibvirt",
                "CLibXML2",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CProcessSpawn"),
        // Runs blocking calls (libvirt RPCs, waiting for child processes) off the event loops and
        // the cooperative pool; no dependencies.
        .target(name: "BlockingIO"),
        // What the processes say to each other: the balancer's wire types, the `Balancer` protocol,
        // endpoints, the user-facing errors. No libvirt and no HTTP client: the balancer and the
        // client simulator link this and nothing of the providers.
        .target(
            name: "AutoscalerAPI",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // The HTTP client side of it: the balancer's admin client and HTTP probes, over
        // AsyncHTTPClient (and so TLS): the balancer itself needs neither (its health checks are
        // its own), which keeps BoringSSL out of its binary.
        .target(
            name: "AutoscalerClient",
            dependencies: [
                "AutoscalerAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Where instances come from: libvirt domains and local `webserver` processes.
        .target(
            name: "InstanceProviders",
            dependencies: [
                "AutoscalerAPI", "AutoscalerClient",
                "BlockingIO",
                "Libvirt",
                "CProcessSpawn",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What every command shares: logging options, the config file, the token, the one error
        // path and exit codes. Nothing of the autoscaler itself, so the webserver links it too.
        .target(
            name: "AutoscalerCLI",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The provider options of the commands that make and remove instances.
        .target(
            // HAProxy as a data plane: its Runtime API over a Unix or TCP socket, as a Balancer.
            name: "HAProxyRuntime",
            dependencies: [
                "AutoscalerAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "ProviderCLI",
            dependencies: [
                "AutoscalerCLI",
                "AutoscalerAPI", "AutoscalerClient",
                "HAProxyRuntime",
                "InstanceProviders",
                "Libvirt",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "WebServer",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "APISupport",
            dependencies: [
                "AutoscalerAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Scheduler",
            dependencies: [
                "AutoscalerAPI", "InstanceProviders", "APISupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/dashboard")]
        ),
        // `scheduler serve`, the policy and warm-pool options and the config-file merge, in a library
        // so that the config fuzz target runs the very code `scheduler` runs. `scheduler simulate`,
        // which prints its report, stays in the executable: libraries log, executables print.
        .target(
            name: "SchedulerCLI",
            dependencies: [
                "Scheduler", "AutoscalerCLI", "ProviderCLI", "AutoscalerAPI", "AutoscalerClient", "InstanceProviders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "scheduler",
            dependencies: [
                "SchedulerCLI", "Scheduler", "AutoscalerCLI", "AutoscalerAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The balancer's own HTTP/1.1 scanner (its hot path), held to NIOHTTP1's decisions by a
        // differential test and a fuzz target.
        .target(
            name: "HTTP1Wire",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: hotPath
        ),
        .target(
            name: "LoadBalancer",
            dependencies: [
                "AutoscalerAPI", "APISupport", "HTTP1Wire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: hotPath
        ),
        .executableTarget(
            name: "loadbalancer",
            dependencies: [
                "LoadBalancer",
                "AutoscalerCLI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ClientSimulator",
            dependencies: [
                "AutoscalerAPI", "HTTP1Wire",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "clientsim",
            dependencies: [
                "ClientSimulator",
                "AutoscalerCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "webserver",
            dependencies: [
                "WebServer",
                "AutoscalerCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "scale-up",
            dependencies: [
                "AutoscalerAPI",
                "InstanceProviders",
                "AutoscalerCLI",
                "ProviderCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "scale-down",
            dependencies: [
                "AutoscalerAPI",
                "InstanceProviders",
                "AutoscalerCLI",
                "ProviderCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LibvirtTests",
            dependencies: ["Libvirt", "BlockingIO"]
        ),
        .testTarget(
            name: "HAProxyRuntimeTests",
            dependencies: [
                "HAProxyRuntime", "AutoscalerAPI", "InstanceProviders", "TestSupport", "webserver",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "AutoscalerAPITests",
            dependencies: ["AutoscalerAPI"]
        ),
        .testTarget(
            name: "APISupportTests",
            dependencies: ["APISupport", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .testTarget(
            name: "AutoscalerCLITests",
            dependencies: ["TestSupport", "loadbalancer", "scheduler", "clientsim", "scale-up", "scale-down", "webserver"]
        ),
        .testTarget(
            name: "InstanceProvidersTests",
            dependencies: [
                "InstanceProviders", "AutoscalerAPI", "AutoscalerClient", "Libvirt", "TestSupport", "webserver", "scale-up", "scale-down", "ProviderCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "LoadBalancer", "AutoscalerAPI", "InstanceProviders", "ClientSimulator", "HTTP1Wire",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "HTTP1WireTests", dependencies: ["HTTP1Wire", "TestSupport"]),
        .testTarget(
            name: "LoadBalancerTests",
            dependencies: [
                "LoadBalancer", "AutoscalerAPI", "InstanceProviders", "TestSupport", "webserver", "loadbalancer", "scale-up", "scale-down",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ClientSimulatorTests",
            dependencies: [
                "ClientSimulator", "TestSupport", "webserver", "clientsim", "LoadBalancer", "AutoscalerAPI", "InstanceProviders",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SchedulerTests",
            dependencies: [
                "Scheduler", "TestSupport", "webserver", "scheduler", "LoadBalancer", "AutoscalerAPI", "AutoscalerClient", "InstanceProviders", "ClientSimulator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "WebServerTests",
            dependencies: [
                "WebServer",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

// Microbenchmarks (ordo-one/benchmark) only when asked for, so that the everyday build and CI do
// not build the benchmark package: `scripts/bench/microbenchmarks.sh` sets AUTOSCALER_BENCHMARKS.
if ProcessInfo.processInfo.environment["AUTOSCALER_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "LoadBalancerBenchmarks",
            dependencies: [
                "LoadBalancer", "AutoscalerAPI", "InstanceProviders", "Libvirt", "Scheduler", "TestSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Benchmarks/LoadBalancerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ))
}

// Fuzz targets (libFuzzer) only when asked for: `scripts/fuzz.sh` sets AUTOSCALER_FUZZ to the
// toolchain's `libclang_rt.fuzzer_no_main` archive and builds in its own scratch path. Our modules
// get coverage and AddressSanitizer (`-sanitize=fuzzer,address`); the dependencies stay as they
// are. Each target has its own `@main` that hands over to `LLVMFuzzerRunDriver`.
if let fuzzerArchive = ProcessInfo.processInfo.environment["AUTOSCALER_FUZZ"], !fuzzerArchive.isEmpty {
    let instrument: SwiftSetting = .unsafeFlags(["-sanitize=fuzzer,address"])
    let ours: Set<String> = [
        "AutoscalerAPI", "AutoscalerClient", "APISupport", "AutoscalerCLI", "ProviderCLI", "HAProxyRuntime", "InstanceProviders", "Libvirt", "LoadBalancer",
        "Scheduler", "SchedulerCLI", "ClientSimulator", "BlockingIO", "HTTP1Wire",
    ]
    for target in package.targets where ours.contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [instrument]
    }
    package.targets += [
        .target(name: "CFuzzDriver", path: "Tests/Fuzz/CFuzzDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CFuzzDriver", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/Fuzz/FuzzSupport"),
    ]
    let targets: [(name: String, directory: String, dependencies: [Target.Dependency])] = [
        (
            "fuzz-proxy-request", "ProxyRequest",
            ["TestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        (
            "fuzz-backend-response", "BackendResponse",
            ["TestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        (
            "fuzz-api-bodies", "APIBodies",
            [
                "APISupport", "AutoscalerAPI", "AutoscalerClient", "InstanceProviders", "Scheduler", .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        ("fuzz-http1-wire", "HTTP1Wire", ["TestSupport"]),
        ("fuzz-csv", "CSV", ["AutoscalerAPI", "HAProxyRuntime", "Scheduler"]),
        ("fuzz-config-file", "ConfigFile", ["SchedulerCLI"]),
        ("fuzz-domain-xml", "DomainXML", ["InstanceProviders", "Libvirt"]),
    ]
    for (name, directory, dependencies) in targets {
        package.products.append(.executable(name: name, targets: [name]))
        package.targets.append(
            .executableTarget(
                name: name, dependencies: ["FuzzSupport"] + dependencies, path: "Tests/Fuzz/\(directory)", swiftSettings: [instrument],
                linkerSettings: [.unsafeFlags(["-sanitize=address", "-Xlinker", fuzzerArchive, "-lstdc++"])]))
    }
}
