// One libFuzzer binary for all fuzz targets, so tools/fuzz/run.sh builds and links once
// (building the targets as separate SwiftPM products rebuilt the shared modules for each).
// EDGESEG_FUZZ_TARGET picks the target: model, onnx, link or jpeg.
// Declared only when EDGESEG_FUZZ is set (end of Package.swift); built with
// --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address (libFuzzer owns main).
import Foundation

typealias FuzzTarget = (UnsafePointer<UInt8>, Int) -> CInt

nonisolated(unsafe) let targets: [String: FuzzTarget] = ["model": fuzzModel, "onnx": fuzzONNX, "link": fuzzLink, "jpeg": fuzzJPEG]
nonisolated(unsafe) var selected: FuzzTarget = { _, _ in 0 }

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    let name = ProcessInfo.processInfo.environment["EDGESEG_FUZZ_TARGET"] ?? ""
    guard let t = targets[name] else {
        FileHandle.standardError.write(Data("set EDGESEG_FUZZ_TARGET to one of \(targets.keys.sorted())\n".utf8))
        exit(2)
    }
    selected = t
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selected(data, size)
}
