// swift-tools-version:6.0
import PackageDescription

// The dependency arrow points one way:
//   lossd (executable) → CommandLineOptions, and → LossService → HTTP, TensorJSON → Losses
// Losses knows nothing of JSON or HTTP; HTTP knows nothing of losses.
// C and C++ live only in the small C-prefixed shim targets.

// LossKernelsAVX2's code generation: AVX2, FMA, BMI2 (x86-64-v3; swiftc spells it haswell). x86-64 hosts only.
#if arch(x86_64)
let avx2Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let avx2Settings: [SwiftSetting] = []
#endif

// Where lossd's release link finds the linker script that sends `-lstdc++` to libstdc++.a.
let staticLibstdcxxFolder = String(#filePath.dropLast("Package.swift".count)) + "link/static-libstdc++"

let package = Package(
    name: "lossd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Losses", targets: ["Losses"]),
        .executable(name: "lossd", targets: ["lossd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // PyTorch-exact losses over contiguous Double tensors. No dependencies outside this package.
        .target(name: "Losses", dependencies: ["LossKernels", "LossKernelsAVX2", "CCPUFeatures"]),
        // The losses' hot loops, generic over the SIMD lane width, compiled twice from this one source:
        // into Losses for baseline x86-64 (SSE2) and into LossKernelsAVX2 for AVX2 (KernelPath picks at run time).
        .target(name: "LossKernels"),
        .target(name: "LossKernelsAVX2", dependencies: ["LossKernels"], swiftSettings: avx2Settings),
        // cpuid, for KernelPath's choice.
        .target(name: "CCPUFeatures"),

        // zlib, for gzip request and response bodies (Debian: zlib1g-dev).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // epoll and eventfd, for the HTTP server's event loop (Linux).
        .systemLibrary(name: "CEpoll"),
        // mallopt, for the executable's memory policy (glibc).
        .systemLibrary(name: "CMalloc"),
        // fast_float's correctly rounded number parser behind a C interface (Debian: libfast-float-dev).
        .target(name: "CFastFloat"),
        // ThreadSanitizer's happens-before annotations, for HTTP's Locked (no-ops without it).
        .target(name: "CThreadSanitizer"),
        // OpenSSL 3, for TLS: the macros Swift cannot import (Debian: libssl-dev).
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        // A strict HTTP/1.1 server on POSIX sockets and Dispatch.
        .target(name: "HTTP", dependencies: ["CZlib", "CEpoll", "COpenSSL", "CThreadSanitizer"]),

        // The streaming tensor JSON decoder (RFC 8259 numbers to contiguous Double storage)
        // and the memory budget its tensors reserve from. No HTTP. The fuzz and bench
        // programs compile this folder whole.
        .target(name: "TensorJSON", dependencies: ["Losses", "CFastFloat"]),

        // The loss routes: validation, the JSON writer, metrics, CORS, health.
        // RevisionPlugin writes the git commit being built (BuildInfo.revision); EmbedPlugin
        // embeds openapi.yaml and page/ (OpenAPIDocument, PageAssets) from the files themselves.
        .target(name: "LossService", dependencies: ["Losses", "HTTP", "TensorJSON"],
                plugins: ["RevisionPlugin", "EmbedPlugin"]),
        .plugin(name: "RevisionPlugin", capability: .buildTool()),
        .plugin(name: "EmbedPlugin", capability: .buildTool()),

        // The command-line parser behind lossd's flags, subcommands and --help. Our own and free of
        // Foundation: swift-argument-parser linked FoundationEssentials in, and every mapped page is idle RSS.
        .target(name: "CommandLineOptions"),

        // The executable: configuration, logging, signals, start-up.
        .executableTarget(
            name: "lossd",
            dependencies: [
                "LossService", "Losses", "TensorJSON", "HTTP", "COpenSSL", "CMalloc", "CommandLineOptions",
                .product(name: "Logging", package: "swift-log"),
            ],
            // Release builds carry the Swift runtime inside (what `--static-swift-stdlib` does, for
            // `swift run -c release` too): no libswiftCore.so and friends mapped, 3 MB less idle RSS,
            // and a binary that runs where Swift is not installed. Debug builds and tests link it shared.
            // They link with the toolchain's lld, which packs the ~27,000 relative relocations the
            // loader applies at start into DT_RELR (5 KB instead of a 656 KB .rela.dyn that was read
            // whole at every start; gold cannot): about 330 KB less idle RSS. Needs glibc 2.36
            // (Debian 12, the runtime image's).
            // And they take libstdc++ (which the Swift runtime needs) from the static archive: see
            // link/static-libstdc++/libstdc++.so, a linker script. About 900 KB less idle RSS.
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                                           "-L", staticLibstdcxxFolder],
                                          .when(configuration: .release))]
        ),

        .executableTarget(name: "LossesBenchmark", dependencies: ["Losses", "TestSupport"]),  // elements/s of each loss, release build

        // What every test target shares: TestClient (a blocking HTTP/1.1 client, plain or TLS),
        // the SplitMix64 generator, closeEnough and eventually. No @testable imports.
        .target(name: "TestSupport", dependencies: ["COpenSSL"], path: "Tests/TestSupport"),
        .testTarget(name: "LossesTests", dependencies: ["Losses", "LossKernels", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "COpenSSL", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TensorJSONTests", dependencies: ["TensorJSON", "Losses", "TestSupport"]),
        .testTarget(name: "CommandLineOptionsTests", dependencies: ["CommandLineOptions"]),
        .testTarget(name: "LossServiceTests", dependencies: ["LossService", "TensorJSON", "HTTP", "Losses", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
