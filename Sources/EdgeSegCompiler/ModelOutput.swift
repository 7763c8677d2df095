import EdgeSegCore
import Foundation

public struct ModelOutputError: Error, CustomStringConvertible {
    public var description: String
}

/// Serialises a compiled graph with EdgeSegCore's `.edgeseg` writer and reads it back through
/// the loader's validation, so a file the runtime would refuse is never written.
public func compiledModelBytes(_ graph: Graph) throws -> [UInt8] {
    let bytes = writeModelFile(graph)
    let back: Graph
    do { back = try readModelFile(bytes) } catch {
        throw ModelOutputError(description: "the compiled graph does not survive the model-file loader: \(error)")
    }
    guard back == graph else { throw ModelOutputError(description: "model file round trip changed the graph") }
    return bytes
}

public func writeCompiledModel(_ graph: Graph, to path: String) throws {
    let bytes = try compiledModelBytes(graph)
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw ModelOutputError(description: "cannot write \(path): \(error.localizedDescription)")
    }
}
