import EdgeSegCompiler
import EdgeSegCore
import Foundation
import Testing

/// The whole path the board runs: ONNX → compile → .edgeseg bytes → load → EdgeSegCore's
/// Executor, against ONNX Runtime's FP32 outputs.
@Suite("compiled fixtures on the FP32 executor match ONNX Runtime")
struct ExecutorParityTests {
    func run(_ f: Fixture, threads: Int, reference: Bool) throws -> [[Float]] {
        let (compiled, _) = try f.compiled()
        let graph = try readModelFile(try compiledModelBytes(compiled))
        let ex = try Executor(graph: graph, threads: threads, reference: reference)
        for (i, v) in f.inputValues.enumerated() {
            let buf = ex.input(i)
            #expect(buf.count == v.count)
            for k in 0..<v.count { buf[k] = v[k] }
        }
        ex.run()
        return (0..<f.outputs.count).map { Array(ex.output($0)) }
    }

    @Test("fast kernels, 2 threads", arguments: Fixture.names)
    func fastKernels(name: String) throws {
        let f = Fixture.named(name)
        for (k, (got, want)) in zip(try run(f, threads: 2, reference: false), f.referenceOutputs).enumerated() {
            let d = maxAbsDiff(got, want)
            print("executor parity \(name)[\(k)]: max |Δ| = \(d)")
            #expect(d <= 1e-3, "\(name) output \(k): max |Δ| = \(d)")
            if f.argmaxAxis == 1 { #expect(argmaxChannels(got, shape: f.outputs[k]) == argmaxChannels(want, shape: f.outputs[k])) }
        }
    }

    @Test("scalar reference kernels", arguments: Fixture.names)
    func referenceKernels(name: String) throws {
        let f = Fixture.named(name)
        for (k, (got, want)) in zip(try run(f, threads: 1, reference: true), f.referenceOutputs).enumerated() {
            #expect(maxAbsDiff(got, want) <= 1e-3, "\(name) output \(k)")
        }
    }
}
