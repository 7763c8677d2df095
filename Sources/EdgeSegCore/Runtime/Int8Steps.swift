// int8 islands inside the FP32 executor. A quantized graph (EdgeSegCompiler's quantize pass)
// holds `quantize` nodes (float NCHW → int8), convs whose input, weight and output are int8, and
// `dequantize` nodes (int8 → float NCHW). int8 activation tensors keep their logical NCHW shape
// in the graph but are stored channels-last (NHWC) in the arena, the layout the int8 kernels
// read; consecutive int8 convs therefore pass NHWC bytes to each other with no conversion, and
// only the island boundaries transpose. Weights are packed once at load for this CPU's path.

import EdgeSegKernels

/// Checks a graph's element types are ones this executor runs: float32 everywhere except int8
/// activations (quantize outputs, dequantize inputs, int8 conv inputs/outputs) and int8 conv
/// weights. Everything the int8 kernels rely on is checked here, so a hostile file fails at load.
func checkExecutableTypes(_ g: Graph) throws {
    func name(_ t: TensorID) -> String { g.tensors[t].name }
    func isActivationQuant(_ t: TensorID) -> Bool {
        guard g.tensors[t].type == .int8, let q = g.tensors[t].quant, q.axis == nil,
              q.scale.count == 1, q.zeroPoint.count == 1 else { return false }
        return q.scale[0].isFinite && q.scale[0] > 0 && (-128...127).contains(q.zeroPoint[0])
    }
    var int8Allowed = Set<TensorID>()
    for n in g.nodes {
        switch n.op {
        case .quantize:
            guard g.tensors[n.inputs[0]].type == .float32, isActivationQuant(n.outputs[0]), g.tensors[n.inputs[0]].shape.count == 4 else {
                throw ExecutorError("node '\(n.name)': quantize needs a float32 4-D input and an int8 output with one scale and zero point")
            }
            int8Allowed.insert(n.outputs[0])
        case .dequantize:
            guard isActivationQuant(n.inputs[0]), g.tensors[n.outputs[0]].type == .float32, g.tensors[n.outputs[0]].shape.count == 4 else {
                throw ExecutorError("node '\(n.name)': dequantize needs an int8 4-D input with one scale and zero point and a float32 output")
            }
            int8Allowed.insert(n.inputs[0])
        case .conv(let a) where g.tensors[n.inputs[0]].type != .float32:
            let ops = try convOperands(n, a)
            guard isActivationQuant(ops.x), isActivationQuant(n.outputs[0]), ops.residual == nil else {
                throw ExecutorError("node '\(n.name)': int8 conv needs int8 input/output with activation quantization and no residual")
            }
            let w = g.tensors[ops.weight]
            guard w.type == .int8, case .int8(let values)? = g.constants[ops.weight], let q = w.quant, q.axis == 0,
                  q.scale.count == w.shape[0], q.zeroPoint.allSatisfy({ $0 == 0 }), q.zeroPoint.count == w.shape[0],
                  q.scale.allSatisfy({ $0.isFinite && $0 >= 0 }), !values.contains(-128) else {
                throw ExecutorError("node '\(n.name)': int8 conv weight '\(w.name)' must be a constant int8 tensor, symmetric per output channel in −127…127")
            }
            if let b = ops.bias, g.tensors[b].type != .float32 || g.constants[b] == nil {
                throw ExecutorError("node '\(n.name)': int8 conv bias must be a float32 constant")
            }
            int8Allowed.formUnion([ops.x, ops.weight, n.outputs[0]])
        case .unary where g.tensors[n.inputs[0]].type == .int8:
            // An activation table (quantize pass): int8 → int8 (both NHWC) or int8 → float NCHW.
            let out = n.outputs[0], xs = g.tensors[n.inputs[0]].shape
            guard isActivationQuant(n.inputs[0]), xs.count == 4, g.tensors[out].shape == xs,
                  isActivationQuant(out) || g.tensors[out].type == .float32 else {
                throw ExecutorError("node '\(n.name)': an int8 activation table needs an int8 4-D input with one scale and zero point and an output of the same shape, int8 (likewise quantized) or float32")
            }
            int8Allowed.insert(n.inputs[0])
            if g.tensors[out].type == .int8 { int8Allowed.insert(out) }
        case .reduce(let op, let axes, let keep) where g.tensors[n.inputs[0]].type == .int8:
            // A strip pool of coordinate attention (quantize pass): int8 4-D in, float out.
            let xs = g.tensors[n.inputs[0]].shape
            guard isActivationQuant(n.inputs[0]), xs.count == 4, xs[0] == 1, op == .mean || op == .max, keep,
                  axes == [2] || axes == [3], g.tensors[n.outputs[0]].type == .float32 else {
                throw ExecutorError("node '\(n.name)': an int8 reduce needs an int8 [1,C,H,W] input with one scale and zero point, mean or max over axis 2 or 3 with keepdims, and a float32 output")
            }
            int8Allowed.insert(n.inputs[0])
        case .binary(.add) where g.tensors[n.outputs[0]].type == .int8:
            let ys = g.tensors[n.outputs[0]].shape
            guard n.inputs.allSatisfy({ isActivationQuant($0) && g.tensors[$0].shape == ys }), isActivationQuant(n.outputs[0]) else {
                throw ExecutorError("node '\(n.name)': an int8 add needs int8 inputs and output of one shape, each with one scale and zero point")
            }
            int8Allowed.formUnion(n.inputs + n.outputs)
        case .axisScale where g.tensors[n.inputs[0]].type == .float32:
            guard n.inputs.allSatisfy({ g.tensors[$0].type == .float32 }), g.tensors[n.outputs[0]].type == .float32 else {
                throw ExecutorError("node '\(n.name)': a float axisScale needs float32 x, gates and output")
            }
        case .axisScale:
            let xs = g.tensors[n.inputs[0]].shape
            guard isActivationQuant(n.inputs[0]), isActivationQuant(n.outputs[0]), xs.count == 4, xs[0] == 1,
                  g.tensors[n.inputs[1]].type == .float32, g.tensors[n.inputs[2]].type == .float32 else {
                throw ExecutorError("node '\(n.name)': axisScale runs on an int8 [1,C,H,W] input and output with one scale and zero point each, and float32 gates")
            }
            int8Allowed.formUnion([n.inputs[0], n.outputs[0]])
        case .resize(let a) where g.tensors[n.inputs[0]].type == .int8:
            // An upsampling before an int8 concat (quantize pass): int8 → int8, batch 1, same channels.
            let xs = g.tensors[n.inputs[0]].shape, ys = g.tensors[n.outputs[0]].shape
            guard a.mode == .linear, n.inputs.count == 1, isActivationQuant(n.inputs[0]), isActivationQuant(n.outputs[0]),
                  xs.count == 4, ys.count == 4, xs[0] == 1, ys[0] == 1, xs[1] == ys[1], xs[2] > 0, xs[3] > 0 else {
                throw ExecutorError("node '\(n.name)': an int8 resize needs a linear resize of an int8 [1,C,H,W] input to an int8 [1,C,H',W'] output, each with one scale and zero point")
            }
            int8Allowed.formUnion([n.inputs[0], n.outputs[0]])
        case .concat(let axis) where g.tensors[n.outputs[0]].type == .int8:
            let ys = g.tensors[n.outputs[0]].shape
            guard ys.count == 4, axis == 1 || axis == -3, isActivationQuant(n.outputs[0]),
                  n.inputs.allSatisfy({ let s = g.tensors[$0].shape
                      return isActivationQuant($0) && s.count == 4 && s[0] == ys[0] && s[2] == ys[2] && s[3] == ys[3] }),
                  n.inputs.reduce(0, { $0 + g.tensors[$1].shape[1] }) == ys[1] else {
                throw ExecutorError("node '\(n.name)': an int8 concat joins int8 4-D tensors over channels into an int8 output, each with one scale and zero point")
            }
            int8Allowed.formUnion(n.inputs + n.outputs)
        case .conv, .gemm:
            // Half-precision weights (`--precision fp16`) are widened to float32 at load.
            if g.tensors[n.inputs[1]].type == .float16, g.constants[n.inputs[1]] != nil { int8Allowed.insert(n.inputs[1]) }
        default: break
        }
    }
    for n in g.nodes {
        for t in n.inputs + n.outputs where g.tensors[t].type != .float32 && !int8Allowed.contains(t) {
            throw ExecutorError("node '\(n.name)': tensor '\(name(t))' is \(g.tensors[t].type); only float32, half weights and quantized int8 conv islands run here")
        }
        // An int8 tensor read by anything but an int8 conv, a dequantize, an activation table, a
        // strip pool, an axis scale or an int8 add would be misread (layout, scale).
        switch n.op {
        case .conv, .dequantize, .unary, .reduce, .axisScale: break
        case .binary(.add) where g.tensors[n.outputs[0]].type == .int8: break
        case .concat where g.tensors[n.outputs[0]].type == .int8: break
        case .resize where g.tensors[n.inputs[0]].type == .int8: break
        default:
            for t in n.inputs where g.tensors[t].type == .int8 {
                throw ExecutorError("node '\(n.name)': reads int8 tensor '\(name(t))', which only int8 convs, dequantize, activation tables, strip pools, axis scales, int8 adds, concats and resizes may read")
            }
        }
        // Only the int8 kernels checked above write int8 tensors (a float kernel would write 4-byte
        // values over a 1-byte tensor); those keyed on their input type need an int8 input.
        let inputIsInt8 = n.inputs.first.map { g.tensors[$0].type == .int8 } ?? false
        let writesInt8: Bool
        switch n.op {
        case .quantize, .binary(.add), .concat: writesInt8 = true   // checked above with their outputs
        case .conv, .unary, .axisScale, .resize: writesInt8 = inputIsInt8
        default: writesInt8 = false
        }
        if !writesInt8, let t = n.outputs.first(where: { g.tensors[$0].type == .int8 }) {
            throw ExecutorError("node '\(n.name)': writes int8 tensor '\(name(t))', which only quantize and the int8 kernels may write")
        }
    }
    for t in g.inputs + g.outputs where g.tensors[t].type != .float32 {
        throw ExecutorError("graph tensor '\(name(t))' is \(g.tensors[t].type); graph inputs and outputs are float32")
    }
}

/// A quantized convolution ready to run: weights packed for this CPU (or tap-major for
/// depthwise), the per-channel output stage, and its NHWC int8 operands.
struct Int8ConvKernel {
    var shape: Int8ConvShape
    var batch: Int
    var packed: Int8PackedConv?          // nil: depthwise
    var depthwise: Int8PackedDepthwise?  // nil: GEMM conv
    /// Chosen once at load: `Int8Path.preferred()` reads the environment and filters the path
    /// list (allocating), which must not happen per run.
    var path: Int8Path
    var stage: Int8OutputStage
    var inputZeroPoint: Int32
    var x: UnsafeMutablePointer<Int8>, y: UnsafeMutablePointer<Int8>
    var scratchBytes: Int
    var weightBytes: Int { packed?.byteCount ?? depthwise.map { $0.byteCount + 12 * stage.bias.count } ?? 0 }

    var isDepthwise: Bool { packed == nil }
    var inImage: Int { shape.inH * shape.inW * shape.inC }
    var outImage: Int { shape.outH * shape.outW * shape.outC }

    init(graph g: Graph, node n: Node, attrs a: ConvAttrs, x: UnsafeMutablePointer<Int8>, y: UnsafeMutablePointer<Int8>) throws {
        let ops = try convOperands(n, a)
        let xs = g.tensors[ops.x].shape, ws = g.tensors[ops.weight].shape
        let xq = g.tensors[ops.x].quant!, yq = g.tensors[n.outputs[0]].quant!, wq = g.tensors[ops.weight].quant!
        guard case .int8(let w)? = g.constants[ops.weight] else { throw ExecutorError("node '\(n.name)': int8 weight missing") }
        var bias: [Float]? = nil
        if let b = ops.bias, case .float32(let v)? = g.constants[b] { bias = v }
        shape = Int8ConvShape(inH: xs[2], inW: xs[3], inC: xs[1], outC: ws[0], kH: ws[2], kW: ws[3],
                              stride: (a.strides[0], a.strides[1]), pad: (a.pads[0], a.pads[1], a.pads[2], a.pads[3]),
                              dilation: (a.dilations[0], a.dilations[1]), groups: a.group)
        batch = xs[0]
        let zpIn = xq.zeroPoint[0]
        inputZeroPoint = zpIn
        self.x = x; self.y = y
        let (lo, hi) = try int8ActivationClamp(a.activation, scale: yq.scale[0], zeroPoint: yq.zeroPoint[0], node: n.name)
        let s = shape
        let ohwi = int8WeightsOIHWToOHWI(w, outC: s.outC, inCPerGroup: s.inCPerGroup, kH: s.kH, kW: s.kW)
        let path = Int8Path.preferred()
        self.path = path
        do {
            stage = try ohwi.withUnsafeBufferPointer {
                try Int8OutputStage(weights: $0.baseAddress!, outputChannels: s.outC, k: s.gemmK, bias: bias,
                                    inputScale: xq.scale[0], inputZeroPoint: zpIn, weightScales: wq.scale,
                                    outputScale: yq.scale[0], outputZeroPoint: yq.zeroPoint[0], clampMin: lo, clampMax: hi)
            }
            if s.groups == s.inC && s.inC == s.outC && s.groups > 1 {
                packed = nil
                // x86: int16 tap pairs + per-thread pair rows in scratch (Int8Depthwise.swift).
                let dw = int8PackDepthwise(tapMajor: int8PackDepthwiseWeights(ohwi, channels: s.outC, taps: s.kH * s.kW),
                                           channels: s.outC, kH: s.kH, kW: s.kW, stage: stage, path: path)
                depthwise = dw
                scratchBytes = int8DepthwiseScratchBytes(dw, shape: s)
            } else {
                let p = try ohwi.withUnsafeBufferPointer { try packInt8Conv($0.baseAddress!, shape: s, path: path) }
                packed = p; depthwise = nil
                scratchBytes = int8Conv2DScratchBytes(p)
            }
        } catch {
            throw ExecutorError("node '\(n.name)': \(error)")
        }
    }

    /// This part's share of the work: output pixels (GEMM convs) or output rows (depthwise).
    func run(part: Int, parts: Int, scratch: UnsafeMutableRawPointer) {
        for b in 0..<batch {
            let xi = UnsafePointer(x + b * inImage), yi = y + b * outImage
            if let packed {
                let r = f32PartRange(shape.outH * shape.outW, part, parts)
                if r.isEmpty { continue }
                int8Conv2D(input: xi, inputZeroPoint: inputZeroPoint, conv: packed, stage: stage, output: yi,
                           scratch: scratch, pixels: r)
            } else {
                let r = f32PartRange(shape.outH, part, parts)
                if r.isEmpty { continue }
                if let depthwise {
                    int8DepthwiseConv2D(input: xi, inputZeroPoint: inputZeroPoint, shape: shape, packed: depthwise,
                                        stage: stage, output: yi, scratch: scratch, outputRows: r)
                }
            }
        }
    }
}

/// The clamp a fused activation becomes in the quantized domain; anything but ReLU / Clip must
/// stay a float op after the dequantize (the quantize pass unfuses it).
func int8ActivationClamp(_ act: UnaryOp?, scale: Float, zeroPoint: Int32, node: String) throws -> (Int32, Int32) {
    func q(_ v: Float) -> Int32 {
        let r = (Double(v) / Double(scale)).rounded() + Double(zeroPoint)
        return Int32(max(-128, min(127, r.isNaN ? 0 : r)))
    }
    switch act {
    case nil: return (-128, 127)
    case .relu?: return (max(-128, zeroPoint), 127)
    case .clip(let lo, let hi)?: return (max(-128, q(lo)), min(127, q(hi)))
    case let other?: throw ExecutorError("node '\(node)': activation \(other) cannot be fused into an int8 conv")
    }
}

/// 1.5·2^23: adding it to a float of magnitude < 2^22 leaves round-half-even(x) in the low
/// mantissa bits (bit pattern 0x4B40_0000 + x).
let float32RoundingMagic: Float = 12_582_912
let float32RoundingMagicBits: Int32 = 0x4B40_0000

/// Bytes of per-thread scratch the boundary steps transpose through (a tile of C × block values).
func int8BoundaryTileBytes(channels: Int) -> Int { max(1 << 16, 16 * channels) }

/// Pixels per tile: the tile (C × block bytes) stays in L1/L2 while it is transposed.
@inline(__always) func int8BoundaryBlock(channels: Int, tileBytes: Int) -> Int {
    max(16, min(256, tileBytes / max(1, channels) / 16 * 16))
}

/// Float NCHW → int8 NHWC: q = clamp(round_half_even(x / scale) + zp), as ONNX QuantizeLinear.
/// Each thread takes a range of pixels; per block of pixels every channel's contiguous run is
/// quantized 16 at a time into a channel-major tile, which is then written out pixel-major.
/// A quantize or dequantize node: the float NCHW tensor, its int8 NHWC twin, the parameters.
struct Int8BoundaryStep {
    var float: UnsafeMutablePointer<Float>, int8: UnsafeMutablePointer<Int8>
    var batch: Int, channels: Int, pixels: Int
    var scale: Float, zeroPoint: Int32
    var tileBytes: Int
    /// Dequantize through an activation: x = table[q + 128] = act(scale · (q − zp)).
    var table: UnsafePointer<Float>? = nil
    /// The AVX-512 transposing blocks (same bytes), chosen at load with the int8 path: when the
    /// convs run VNNI (EDGESEG_INT8_PATH can force another path, and with it this portable step).
    var vector = false
    /// Quantize, batch 1: bytes from one int8 pixel to the next (a concat's width when the rows
    /// go into its slice); nil: `channels`.
    var int8Stride: Int? = nil

    func quantize(part: Int, parts: Int, tile: UnsafeMutablePointer<Int8>) {
        let C = channels, P = pixels, block = int8BoundaryBlock(channels: C, tileBytes: tileBytes)
        let stride = int8Stride ?? C
        if vector {
            let r = f32PartRange(P, part, parts)
            for b in 0..<batch where !r.isEmpty {
                int8QuantizeBlock(src: float + b * C * P + r.lowerBound, planeStride: P, channels: C, pixels: r.count,
                                  dst: int8 + b * C * P + r.lowerBound * stride, dstStride: stride, scale: scale, zeroPoint: zeroPoint)
            }
            return
        }
        let zp = SIMD16<Float>(repeating: Float(zeroPoint)), sc = SIMD16<Float>(repeating: scale)
        let lo = SIMD16<Float>(repeating: -128), hi = SIMD16<Float>(repeating: 127)
        let big = SIMD16<Float>(repeating: 1_048_576), magic = SIMD16<Float>(repeating: float32RoundingMagic)
        // Rounding and the float → int conversion by the 1.5·2^23 trick: plain adds and an integer
        // subtract, vectorised on every ISA (SSE2 has no roundps; the generic SIMD conversions go lane by lane).
        @inline(__always) func q16(_ v: SIMD16<Float>) -> SIMD16<Int8> {
            var t = v / sc
            t = t.replacing(with: -big, where: .!(t .>= -big))    // NaN compares false: clamps, never traps
            t = t.replacing(with: big, where: t .> big)
            var q = ((t + magic) - magic) + zp                     // round half to even, then + zp (QuantizeLinear)
            q = q.replacing(with: lo, where: q .< lo).replacing(with: hi, where: q .> hi)
            let bits = unsafeBitCast(q + magic, to: SIMD16<Int32>.self) &- float32RoundingMagicBits
            return SIMD16<Int8>(truncatingIfNeeded: bits)
        }
        forEachBlock(part: part, parts: parts) { xb, yb, p0, n in
            for c in 0..<C {
                let src = xb + c * P + p0, dst = tile + c * block
                var i = 0
                while i + 16 <= n {
                    UnsafeMutableRawPointer(dst + i).storeBytes(of: q16(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self)),
                                                                as: SIMD16<Int8>.self)
                    i += 16
                }
                if i < n {
                    var v = SIMD16<Float>(repeating: 0)
                    for k in 0..<(n - i) { v[k] = src[i + k] }
                    let q = q16(v)
                    for k in 0..<(n - i) { dst[i + k] = q[k] }
                }
            }
            for p in 0..<n {
                let row = yb + (p0 + p) * stride
                for c in 0..<C { row[c] = tile[c * block + p] }
            }
        }
    }

    /// int8 NHWC → float NCHW: x = scale · (q − zp), through the same kind of tile.
    func dequantize(part: Int, parts: Int, tile: UnsafeMutablePointer<Int8>) {
        let C = channels, P = pixels, block = int8BoundaryBlock(channels: C, tileBytes: tileBytes)
        if vector && table == nil {
            let r = f32PartRange(P, part, parts)
            for b in 0..<batch where !r.isEmpty {
                int8DequantizeBlock(src: int8 + b * C * P + r.lowerBound * C, channels: C, pixels: r.count,
                                    dst: float + b * C * P + r.lowerBound, planeStride: P, scale: scale, zeroPoint: zeroPoint)
            }
            return
        }
        let zp = SIMD16<Int32>(repeating: zeroPoint &- float32RoundingMagicBits), sc = SIMD16<Float>(repeating: scale)
        let magic = SIMD16<Float>(repeating: float32RoundingMagic)
        forEachBlock(part: part, parts: parts) { yb, xb, p0, n in
            for p in 0..<n {
                let row = xb + (p0 + p) * C
                for c in 0..<C { tile[c * block + p] = row[c] }
            }
            if let table {
                for c in 0..<C {
                    let src = tile + c * block, dst = yb + c * P + p0
                    for i in 0..<n { dst[i] = table[Int(src[i]) &+ 128] }
                }
                return
            }
            for c in 0..<C {
                let src = tile + c * block, dst = yb + c * P + p0
                var i = 0
                while i + 16 <= n {
                    let q = SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Int8>.self))
                    // q − zp as a float by the same trick: exact for |q − zp| < 2^22.
                    let f = unsafeBitCast(q &- zp, to: SIMD16<Float>.self) - magic
                    UnsafeMutableRawPointer(dst + i).storeBytes(of: f * sc, as: SIMD16<Float>.self)
                    i += 16
                }
                while i < n { dst[i] = Float(Int32(src[i]) &- zeroPoint) * scale; i += 1 }
            }
        }
    }

    /// body(float image, int8 image, first pixel, pixels) for each block of this part's pixels.
    @inline(__always)
    private func forEachBlock(part: Int, parts: Int,
                              _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int8>, Int, Int) -> Void) {
        let image = channels * pixels, block = int8BoundaryBlock(channels: channels, tileBytes: tileBytes)
        let r = f32PartRange(pixels, part, parts)
        for b in 0..<batch {
            var p0 = r.lowerBound
            while p0 < r.upperBound {
                let n = min(block, r.upperBound - p0)
                body(float + b * image, int8 + b * image, p0, n)
                p0 += n
            }
        }
    }
}

/// An activation applied to int8 values as a 256-entry table, built at load by the float kernel
/// itself: y = quantize_out(act(dequantize_in(x))) for int8 → int8. The layout does not matter
/// (one byte in, one byte out), so NHWC stays NHWC and no boundary is crossed.
struct Int8TableStep {
    var x: UnsafeMutablePointer<Int8>, y: UnsafeMutablePointer<Int8>
    var count: Int
    var table: UnsafePointer<Int8>

    func run(part: Int, parts: Int) {
        let r = f32PartRange(count, part, parts)
        for i in r { y[i] = table[Int(x[i]) &+ 128] }
    }
}

/// A reduce (mean or max) over H or W of an int8 NHWC tensor, dequantized into float NCHW.
struct Int8StripReduceStep {
    var x: UnsafeMutablePointer<Int8>, y: UnsafeMutablePointer<Float>
    var height: Int, width: Int, channels: Int
    var overWidth: Bool, isMax: Bool
    var scale: Float, zeroPoint: Int32
    var vector: Bool

    func run(part: Int, parts: Int, scratch: UnsafeMutableRawPointer) {
        int8StripReduce(x, height: height, width: width, channels: channels, overWidth: overWidth, isMax: isMax,
                        scale: scale, zeroPoint: zeroPoint, out: y, scratch: scratch, part: part, parts: parts, vector: vector)
    }
}

/// An int8 residual add: y = quantize(dequantize(a) + dequantize(b)), all three alike in shape.
struct Int8AddStep {
    var a: UnsafeMutablePointer<Int8>, b: UnsafeMutablePointer<Int8>, y: UnsafeMutablePointer<Int8>
    var count: Int
    var a8: QuantParams, b8: QuantParams, y8: QuantParams
    var vector: Bool

    func run(part: Int, parts: Int) {
        int8Add(a, b, y, count: count, aScale: a8.scale[0], aZeroPoint: a8.zeroPoint[0], bScale: b8.scale[0],
                bZeroPoint: b8.zeroPoint[0], outScale: y8.scale[0], outZeroPoint: y8.zeroPoint[0], part: part, parts: parts,
                vector: vector)
    }
}

/// `axisScale` on int8 NHWC x → y with float gates a [C][H] and b [C][W] (batch 1).
struct Int8AxisScaleStep {
    var x: UnsafeMutablePointer<Int8>, y: UnsafeMutablePointer<Int8>
    var a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
    var height: Int, width: Int, channels: Int
    var inScale: Float, inZeroPoint: Int32, outScale: Float, outZeroPoint: Int32
    var vector: Bool

    func run(part: Int, parts: Int, scratch: UnsafeMutableRawPointer) {
        int8AxisScale(x, height: height, width: width, channels: channels, a: a, b: b, inScale: inScale, inZeroPoint: inZeroPoint,
                      outScale: outScale, outZeroPoint: outZeroPoint, y: y, scratch: scratch, part: part, parts: parts, vector: vector)
    }
}

/// Float table: table[q + 128] = act(scale · (q − zp)) for q = −128…127, by the same float kernel
/// (and the dequantize step's arithmetic) the unfused graph runs.
func int8FloatTable(_ act: F32Activation, input: QuantParams, into table: UnsafeMutablePointer<Float>) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buf in
        let x = buf.baseAddress!
        for i in 0..<256 { x[i] = Float(Int32(i) - 128 - input.zeroPoint[0]) * input.scale[0] }
        f32Unary(act, x, table, 256)
    }
}

/// int8 → int8 table: quantize(act(dequantize(q))) with QuantizeLinear's rounding and saturation.
func int8TableFromFloatKernel(_ act: F32Activation, input: QuantParams, output: QuantParams, into table: UnsafeMutablePointer<Int8>) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buf in
        let y = buf.baseAddress!
        int8FloatTable(act, input: input, into: y)
        for i in 0..<256 { table[i] = int8QuantizeValue(y[i], output) }
    }
}
