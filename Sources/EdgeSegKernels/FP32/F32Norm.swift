// Softmax and normalisations over a middle axis: data viewed as [outer, len, inner].

public func f32Softmax(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                       outer: Int, len: Int, inner: Int, part: Int = 0, parts: Int = 1) {
    for item in f32PartRange(outer * inner, part, parts) {
        let o = item / inner, i = item % inner
        let s = src + o * len * inner + i, d = dst + o * len * inner + i
        var m = -Float.infinity
        for k in 0..<len { m = Swift.max(m, s[k * inner]) }
        var sum: Float = 0
        for k in 0..<len { let e = f32Exp(s[k * inner] - m); d[k * inner] = e; sum += e }
        let inv = 1 / sum
        for k in 0..<len { d[k * inner] *= inv }
    }
}

/// ONNX LayerNormalization: each of `rows` rows of `len` normalised, then * scale[len] + bias[len].
public func f32LayerNorm(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, len: Int,
                         scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epsilon: Float,
                         part: Int = 0, parts: Int = 1) {
    for r in f32PartRange(rows, part, parts) {
        let s = src + r * len, d = dst + r * len
        var mean: Float = 0
        for k in 0..<len { mean += s[k] }
        mean /= Float(len)
        var v: Float = 0
        for k in 0..<len { let t = s[k] - mean; v += t * t }
        v /= Float(len)
        let inv = 1 / (v + epsilon).squareRoot()
        if let bias {
            for k in 0..<len { d[k] = (s[k] - mean) * inv * scale[k] + bias[k] }
        } else {
            for k in 0..<len { d[k] = (s[k] - mean) * inv * scale[k] }
        }
    }
}

/// ONNX InstanceNormalization: each (n, c) plane of `planeSize` normalised, then * scale[c] + bias[c].
public func f32InstanceNorm(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int, channels: Int,
                            planeSize: Int, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float,
                            part: Int = 0, parts: Int = 1) {
    for p in f32PartRange(planes, part, parts) {
        let c = p % channels
        let s = src + p * planeSize, d = dst + p * planeSize
        var mean: Float = 0
        for k in 0..<planeSize { mean += s[k] }
        mean /= Float(planeSize)
        var v: Float = 0
        for k in 0..<planeSize { let t = s[k] - mean; v += t * t }
        v /= Float(planeSize)
        let a = scale[c] / (v + epsilon).squareRoot()
        let b = bias[c] - mean * a
        for k in 0..<planeSize { d[k] = s[k] * a + b }
    }
}
