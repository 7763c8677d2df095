#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Argmax of the model's logits into a class mask, with each pixel's softmax
// confidence. Taken on the low-resolution logits when the model ends in a
// resize, which is 16× less work and gives the same components at mask scale.

/// Writes `mask[p] = argmax_c logits[c][p]` and `confidence[p] = softmax max`.
/// `logits` is NCHW with N = 1: `classes` planes of `pixels` floats.
/// Ties go to the lower class, as numpy/torch argmax do.
public func argmaxLogits(_ logits: UnsafePointer<Float>, classes: Int, pixels: Int,
                         mask: UnsafeMutablePointer<UInt8>, confidence: UnsafeMutablePointer<Float>) {
    precondition(classes >= 1 && classes <= 255)
    for p in 0..<pixels {
        var best = logits[p]
        var bestClass = 0
        for c in 1..<max(classes, 1) where logits[c * pixels + p] > best {
            best = logits[c * pixels + p]
            bestClass = c
        }
        var sum: Float = 0
        for c in 0..<classes { sum += expf(logits[c * pixels + p] - best) }
        mask[p] = UInt8(bestClass)
        confidence[p] = 1 / sum
    }
}
