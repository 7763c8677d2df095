// Coordinate attention's gates on float NCHW: y[c][h][w] = (x[c][h][w] · a[c][h]) · b[c][w], one
// pass over x (the two broadcast Muls it replaces wrote and re-read an intermediate product).

/// Parts split the C·H rows.
public func f32AxisScale(_ x: UnsafePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                         _ y: UnsafeMutablePointer<Float>, channels C: Int, height H: Int, width W: Int,
                         part: Int, parts: Int) {
  for row in f32PartRange(C * H, part, parts) {
    let c = row / H, s = a[row], bc = b + c * W, xr = x + row * W, yr = y + row * W
    var w = 0
    while w + 8 <= W {
      f32Store8(f32Load8(xr + w) * SIMD8(repeating: s) * f32Load8(bc + w), yr + w)
      w += 8
    }
    while w < W { yr[w] = xr[w] * s * bc[w]; w += 1 }
  }
}
