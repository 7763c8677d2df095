import EdgeSegCore

// The pipeline reads the class mask before the model's final upsampling:
// a segmentation head that ends in Resize(×s) of C-channel logits gives the
// same argmax, up to border rounding, at 1/s² of the pixels. Dropping that
// last node also saves its run time on the board.

public struct MaskHead: Sendable, Equatable {
    /// Model input size (NCHW, N = 1, C = 3).
    public var inputWidth: Int, inputHeight: Int
    /// Logits the pipeline reads (1 × classes × height × width).
    public var classes: Int, width: Int, height: Int
    /// Input pixels per mask pixel along each axis.
    public var strideX: Int { inputWidth / width }
    public var strideY: Int { inputHeight / height }
}

public enum ModelShapeError: Error, CustomStringConvertible {
    case unsupported(String)
    public var description: String {
        switch self { case .unsupported(let s): return "model not usable for segmentation: \(s)" }
    }
}

/// Removes a trailing Resize that feeds the only graph output and makes its input the output.
/// Returns the graph unchanged when it does not end in one.
public func droppingFinalResize(_ g: Graph) -> Graph {
    guard g.outputs.count == 1, let last = g.nodes.last, last.outputs == g.outputs,
          case .resize = last.op, let src = last.inputs.first, g.constants[src] == nil else { return g }
    let srcShape = g.tensors[src].shape, outShape = g.tensors[g.outputs[0]].shape
    guard srcShape.count == 4, outShape.count == 4, srcShape[0...1] == outShape[0...1] else { return g }
    var out = g
    out.nodes.removeLast()
    out.outputs = [src]
    return out
}

/// Checks the graph is a 1×3×H×W → 1×C×h×w segmentation model and describes its mask head.
public func maskHead(of g: Graph) throws -> MaskHead {
    guard g.inputs.count == 1, g.outputs.count == 1 else {
        throw ModelShapeError.unsupported("expected one input and one output, found \(g.inputs.count) and \(g.outputs.count)")
    }
    let i = g.tensors[g.inputs[0]].shape, o = g.tensors[g.outputs[0]].shape
    guard i.count == 4, i[0] == 1, i[1] == 3 else { throw ModelShapeError.unsupported("input shape \(i), expected [1, 3, H, W]") }
    guard o.count == 4, o[0] == 1, o[1] >= 2, o[1] <= 255 else { throw ModelShapeError.unsupported("output shape \(o), expected [1, C, h, w]") }
    guard i[2] % o[2] == 0, i[3] % o[3] == 0 else {
        throw ModelShapeError.unsupported("output \(o[2])×\(o[3]) does not divide input \(i[2])×\(i[3])")
    }
    return MaskHead(inputWidth: i[3], inputHeight: i[2], classes: o[1], width: o[3], height: o[2])
}
