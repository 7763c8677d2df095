// Fuzz target: hostile ONNX bytes through `compileONNX` (protobuf decode, import, passes,
// validation); a graph that compiles must also survive the `.edgeseg` round trip the board does.
// Part of edgeseg-fuzz (Fuzz.swift picks the target).
//
// Seed helper: with EDGESEG_FUZZ_WRITE_MODELS=<dir>, each input that compiles is also written
// there as <n>.edgeseg (tools/fuzz/make_seeds.py derives the model corpus this way).
import EdgeSegCompiler
import EdgeSegCore
import Foundation

nonisolated(unsafe) var written = 0

func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard let (graph, _) = try? compileONNX(bytes) else { return 0 }
    let file = writeModelFile(graph)
    do {
        _ = try readModelFile(file)
    } catch {
        fatalError("a compiled graph does not load back: \(error)")
    }
    if let dir = ProcessInfo.processInfo.environment["EDGESEG_FUZZ_WRITE_MODELS"] {
        written += 1
        FileManager.default.createFile(atPath: "\(dir)/\(written).edgeseg", contents: Data(file))
    }
    return 0
}
