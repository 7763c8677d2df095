import EdgeSegCompiler
import EdgeSegCore
import Foundation

/// The op fixtures exported by tools/op-fixtures/make_fixtures.py: ONNX files plus the inputs
/// and ONNX Runtime outputs (little-endian float32) they were run with.
struct Fixture: Decodable {
    var name: String
    var inputs: [[Int]]
    var outputs: [[Int]]
    var argmaxAxis: Int?

    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools/op-fixtures/data")

    static let all: [Fixture] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode([Fixture].self, from: data)
    }()
    static var names: [String] { all.map(\.name) }
    static func named(_ n: String) -> Fixture { all.first { $0.name == n }! }

    var onnx: Data { try! Data(contentsOf: Fixture.directory.appendingPathComponent(name + ".onnx")) }

    func floats(_ suffix: String, shapes: [[Int]]) -> [[Float]] {
        let d = try! Data(contentsOf: Fixture.directory.appendingPathComponent("\(name).\(suffix).bin"))
        var all = d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        return shapes.map { s in
            let n = s.reduce(1, *)
            defer { all.removeFirst(n) }
            return Array(all.prefix(n))
        }
    }
    var inputValues: [[Float]] { floats("in", shapes: inputs) }
    var referenceOutputs: [[Float]] { floats("out", shapes: outputs) }

    func compiled() throws -> (Graph, CompileReport) { try compileONNX(onnx) }
    func imported() throws -> Graph { try importONNX(onnx).0 }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// argmax over axis 1 of an NCHW tensor.
func argmaxChannels(_ v: [Float], shape: [Int]) -> [Int] {
    let c = shape[1], hw = shape[2...].reduce(1, *)
    return (0..<(shape[0] * hw)).map { p in
        let n = p / hw, i = p % hw
        return (0..<c).max { v[(n * c + $0) * hw + i] < v[(n * c + $1) * hw + i] }!
    }
}
