import ArgumentParser
import EdgeSegCore

/// A `.edgeseg` file is loaded as is; an `.onnx` file is compiled in memory first.
func loadModel(_ path: String) throws -> Graph {
    throw ValidationError("model loading lands with the compiler and model-file modules: \(path)")
}
