// swift-tools-version: 6.1
import PackageDescription

// Data flow (design brief): Capture → Core (executor over Kernels) → Inspect → Link, wired by Pipeline.
// Compiler turns ONNX into the `.edgeseg` file that Core loads.
let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

// int8/FP16 ISA tiers of EdgeSegKernels: Swift has no per-function target attribute and an
// intrinsic used without its feature flag crashes the compiler, so each tier is its own module
// built with its own flags; EdgeSegKernels picks one at run time (docs/kernels.md).
// The VNNI tier turns LLVM's machine combiner off: it split the depthwise kernel's vpdpwssd
// chains into vpmaddwd + vpaddd (11 uops for 6 per 16 outputs; the pair kernel 1.06–1.3× faster
// without it, the GEMM tiles unchanged). SwiftPM does not rebuild a module for a changed flag:
// delete its objects (.build/*/EdgeSegQuantVNNI.build/*.o) after editing these.
#if arch(x86_64)
let quantTiers: [(name: String, flags: [String])] = [
    ("EdgeSegQuantAVX2", ["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"]),
    ("EdgeSegQuantVNNI", ["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mavx512f", "-Xcc", "-mavx512bw",
                          "-Xcc", "-mavx512vl", "-Xcc", "-mavx512vnni", "-Xllvm", "-x86-machine-combiner=false"]),
    ("EdgeSegQuantDot", []), ("EdgeSegQuantFP16", []),
]
#elseif arch(arm64)
let quantTiers: [(name: String, flags: [String])] = [
    ("EdgeSegQuantAVX2", []), ("EdgeSegQuantVNNI", []),
    ("EdgeSegQuantDot", ["-Xcc", "-march=armv8.2-a+dotprod"]),
    ("EdgeSegQuantFP16", ["-Xcc", "-march=armv8.2-a+fp16"]),
]
#else
let quantTiers: [(name: String, flags: [String])] = [
    ("EdgeSegQuantAVX2", []), ("EdgeSegQuantVNNI", []), ("EdgeSegQuantDot", []), ("EdgeSegQuantFP16", []),
]
#endif

let package = Package(
    name: "EdgeSeg",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "edgeseg", targets: ["edgeseg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // System libraries (pkg-config names as Debian ships them).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CV4L2", pkgConfig: "libv4l2", providers: [.apt(["libv4l-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Compute kernels: standard library only, so they also build as Embedded Swift for aarch64.
        .target(name: "EdgeSegKernels", dependencies: quantTiers.map { .target(name: $0.name) },
                swiftSettings: release + [.enableExperimentalFeature("Extern")],
                linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        .target(name: "EdgeSegCore", dependencies: ["EdgeSegKernels", "CBLAS"], swiftSettings: release),
        .target(name: "EdgeSegCompiler", dependencies: [
            "EdgeSegCore", "EdgeSegKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], swiftSettings: release),
        .target(name: "EdgeSegCapture", dependencies: ["EdgeSegCore", "CV4L2", "CTurboJPEG", "CZlib"], swiftSettings: release),
        .target(name: "EdgeSegInspect", dependencies: ["EdgeSegCore"], swiftSettings: release),
        .target(name: "EdgeSegLink", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "EdgeSegReceiver", dependencies: ["EdgeSegLink", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "EdgeSegPipeline", dependencies: [
            "EdgeSegCore", "EdgeSegCapture", "EdgeSegInspect", "EdgeSegLink",
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: release),
        .executableTarget(name: "edgeseg", dependencies: [
            "EdgeSegPipeline", "EdgeSegCompiler", "EdgeSegReceiver", "EdgeSegKernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Device check run inside the vivid VM and the capture benchmark (tools/ci.d/capture.sh).
        .target(name: "CHeapCounter"),
        .executableTarget(name: "edgeseg-capture-check", dependencies: ["EdgeSegCapture", "CHeapCounter"], swiftSettings: release),

        // Kernel micro-benchmark: int8 paths vs an FP32 (OpenBLAS) GEMM, side by side in one run.
        .executableTarget(name: "edgeseg-kernel-bench", dependencies: ["EdgeSegKernels", "CBLAS"],
                          swiftSettings: release),
    ] + quantTiers.map { .target(name: $0.name, swiftSettings: release + [.unsafeFlags($0.flags)]) } + [
        .testTarget(name: "EdgeSegKernelsTests", dependencies: ["EdgeSegKernels"]),
        // Test-only malloc interposer: counts heap allocations on tagged threads.
        .target(name: "CAllocCounter"),
        .testTarget(name: "EdgeSegCoreTests", dependencies: ["EdgeSegCore", "CAllocCounter"]),
        .testTarget(name: "EdgeSegCompilerTests", dependencies: ["EdgeSegCompiler", "CAllocCounter"]),
        .testTarget(name: "EdgeSegCaptureTests", dependencies: ["EdgeSegCapture"]),
        .testTarget(name: "EdgeSegInspectTests", dependencies: ["EdgeSegInspect"]),
        .testTarget(name: "EdgeSegLinkTests", dependencies: ["EdgeSegLink", "EdgeSegReceiver"]),
        .testTarget(name: "EdgeSegPipelineTests", dependencies: ["EdgeSegPipeline", "EdgeSegReceiver", "CAllocCounter"]),
    ]
)

// MARK: fuzz targets (issue #8) — only declared when EDGESEG_FUZZ is set, so `swift build` and
// the test build never see them. tools/fuzz/run.sh builds the one libFuzzer binary (all four
// targets, picked by EDGESEG_FUZZ_TARGET) in .build-fuzz with libFuzzer + AddressSanitizer.
if Context.environment["EDGESEG_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "edgeseg-fuzz", dependencies: [
        "EdgeSegCore", "EdgeSegCompiler", "EdgeSegLink", "EdgeSegReceiver", "EdgeSegCapture",
    ]))
}
