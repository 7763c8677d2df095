import EdgeSegCore
import Foundation

/// Serialises a compiled graph to a `.edgeseg` file. The file format belongs to EdgeSegCore
/// (Core/ModelFile on the `core` branch); until it is merged this reports that clearly.
public func writeCompiledModel(_ graph: Graph, to path: String) throws {
    throw GraphValidationError(description: "the .edgeseg writer (EdgeSegCore ModelFile) is not in this build yet; run without -o to see the compiled graph")
}
