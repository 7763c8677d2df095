/// Everything that can go wrong turning an ONNX file into a `Graph`. Each case names what the
/// user has to look at (node, operator, opset, tensor) because the model came from someone
/// else's exporter and the message is all they get.
public enum ImportError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a decodable ModelProto (truncated, corrupted, not ONNX).
    case malformedModel(String)
    /// Structurally decodable but unusable (no graph, missing inputs, dynamic input shapes...).
    case invalidModel(String)
    case unsupportedOperator(node: String, opType: String, domain: String, opset: Int)
    /// A supported operator used in a form we cannot compile (dynamic shape input, bad attribute...).
    case invalidNode(node: String, opType: String, reason: String)
    /// An initializer or constant whose header and payload disagree or whose size is hostile.
    case invalidTensor(name: String, reason: String)

    public var description: String {
        switch self {
        case .malformedModel(let why): return "malformed ONNX model: \(why)"
        case .invalidModel(let why): return "invalid ONNX model: \(why)"
        case .unsupportedOperator(let node, let op, let domain, let opset):
            let d = domain.isEmpty ? "ai.onnx" : domain
            return "unsupported operator \(op) (domain \(d), opset \(opset)) at node '\(node)'"
        case .invalidNode(let node, let op, let why): return "node '\(node)' (\(op)): \(why)"
        case .invalidTensor(let name, let why): return "tensor '\(name)': \(why)"
        }
    }
}

/// Limits that keep a hostile file from making us allocate or loop without bound.
/// 2^28 elements = 1 GiB of float32: far above any model this runtime targets.
enum ImportLimits {
    static let maxElements = 1 << 28
    static let maxRank = 8
    static let maxDim = 1 << 28
}

/// Product of dims with overflow and sanity checks; nil when hostile.
func checkedElementCount(_ shape: [Int], allowZero: Bool) -> Int? {
    guard shape.count <= ImportLimits.maxRank else { return nil }
    var n = 1
    for d in shape {
        guard d >= (allowZero ? 0 : 1), d <= ImportLimits.maxDim else { return nil }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard !o, p <= ImportLimits.maxElements else { return nil }
        n = p
    }
    return n
}
