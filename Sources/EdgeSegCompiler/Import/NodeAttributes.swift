import Foundation

/// Typed attribute access on one ONNX node, with errors that name the node.
struct NodeView {
    let proto: Onnx_NodeProto
    let name: String
    var op: String { proto.opType }

    init(_ proto: Onnx_NodeProto, index: Int) {
        self.proto = proto
        self.name = proto.name.isEmpty ? "\(proto.opType)_\(index)" : proto.name
    }

    func fail(_ reason: String) -> ImportError { .invalidNode(node: name, opType: op, reason: reason) }

    func attr(_ key: String) -> Onnx_AttributeProto? { proto.attribute.first { $0.name == key } }

    func int(_ key: String) -> Int? {
        guard let a = attr(key) else { return nil }
        return Int(clamping: a.i)
    }
    func int(_ key: String, default d: Int) -> Int { int(key) ?? d }
    func ints(_ key: String) -> [Int]? { attr(key).map { $0.ints.map { Int(clamping: $0) } } }
    func float(_ key: String, default d: Float) -> Float { attr(key).map { $0.f } ?? d }
    func string(_ key: String, default d: String) -> String {
        guard let a = attr(key) else { return d }
        return String(decoding: a.s, as: UTF8.self)
    }

    /// Input name i, nil when absent or the empty "optional input omitted" marker.
    func inputName(_ i: Int) -> String? {
        i < proto.input.count && !proto.input[i].isEmpty ? proto.input[i] : nil
    }
}
