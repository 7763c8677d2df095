import ArgumentParser
import Foundation
import EdgeSegCore
import EdgeSegCapture
import EdgeSegInspect

/// One image through the model: the class mask at the image's own size (the letterbox
/// undone), optionally a colour overlay. For checking a model, not for the board loop.
struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment one JPEG/PNG image: writes the class mask (indexed PNG) and optionally a colour overlay.")

    @Argument(help: "Model (.edgeseg, or .onnx compiled in memory).") var model: String
    @Argument(help: "Image (JPEG or PNG).") var image: String
    @Option(name: .shortAndLong, help: "Class mask PNG (pixel value = class index).") var output: String = "mask.png"
    @Option(help: "Colour overlay PNG (defects tinted over the image).") var overlay: String?
    @Option(help: "Inference threads.") var threads: Int = 2

    func run() throws {
        let graph = try loadModel(model)
        let exe: Executor
        do { exe = try Executor(graph: graph, threads: threads) } catch { throw ValidationError("\(model): \(error)") }
        let inShape = exe.inputShape(0), outShape = exe.outputShape(0)
        guard inShape.count == 4, inShape[1] == 3, outShape.count == 4, outShape[2] == inShape[2], outShape[3] == inShape[3] else {
            throw ValidationError("\(model): expected a 1×3×H×W → 1×C×H×W segmentation model, got \(inShape) → \(outShape)")
        }
        let img: RGBImage
        do { img = try loadImage(path: image) } catch { throw ValidationError("\(image): \(error)") }
        let spec = InputSpec(width: inShape[3], height: inShape[2])
        do { try preprocess(img, spec: spec, into: exe.input(0)) } catch { throw ValidationError("\(image): \(error)") }
        exe.run()

        let classes = outShape[1], w = inShape[3], h = inShape[2]
        var mask = [UInt8](repeating: 0, count: w * h)
        var confidence = [Float](repeating: 0, count: w * h)
        argmaxLogits(exe.output(0).baseAddress!, classes: classes, pixels: w * h, mask: &mask, confidence: &confidence)

        // Undo the letterbox: each image pixel takes the class of the input pixel it landed on.
        let place = Placement(spec: spec, sourceWidth: img.width, sourceHeight: img.height)
        var imageMask = [UInt8](repeating: 0, count: img.width * img.height)
        for y in 0..<img.height {
            let iy = min(h - 1, place.y + (y * place.height) / img.height)
            for x in 0..<img.width {
                let ix = min(w - 1, place.x + (x * place.width) / img.width)
                imageMask[y * img.width + x] = mask[iy * w + ix]
            }
        }
        var counts = [Int](repeating: 0, count: classes)
        for c in imageMask { counts[Int(c)] += 1 }
        let palette: [UInt8] = (0..<256).flatMap { i -> [UInt8] in classColour(i) }
        do { try savePNG(path: output, width: img.width, height: img.height, channels: 1, pixels: imageMask, palette: palette) }
        catch { throw ValidationError("\(output): \(error)") }
        print("\(output): \(img.width)×\(img.height) class mask; pixels per class: " +
              counts.enumerated().map { "\($0.offset)=\($0.element)" }.joined(separator: " "))
        if let overlay {
            var px = img.pixels
            for i in 0..<imageMask.count where imageMask[i] != 0 {
                let c = classColour(Int(imageMask[i]))
                for k in 0..<3 { px[i * 3 + k] = UInt8((Int(px[i * 3 + k]) + Int(c[k])) / 2) }
            }
            do { try savePNG(path: overlay, width: img.width, height: img.height, channels: 3, pixels: px) }
            catch { throw ValidationError("\(overlay): \(error)") }
            print("\(overlay): overlay written")
        }
    }
}

/// Background black, wear orange, broken wire red, further classes in distinct hues.
func classColour(_ c: Int) -> [UInt8] {
    switch c {
    case 0: return [0, 0, 0]
    case 1: return [255, 140, 0]
    case 2: return [255, 0, 40]
    default: return [UInt8((c * 67) & 255), UInt8((c * 151) & 255), UInt8((c * 29) & 255)]
    }
}

/// An image as the model's float input tensor, with the runtime's own preprocessing (the one
/// `edgeseg run` applies to camera frames), so offline tools see exactly what the board sees.
func preprocess(_ img: RGBImage, spec: InputSpec, into tensor: UnsafeMutableBufferPointer<Float>) throws {
    precondition(tensor.count >= 3 * spec.width * spec.height)
    let pre = Preprocessor(spec: spec, maxJPEGWidth: max(img.width, 16), maxJPEGHeight: max(img.height, 16))
    try img.pixels.withUnsafeBytes { raw in
        let frame = Frame(format: .rgb24, width: img.width, height: img.height, bytesPerLine: img.width * 3,
                          bytes: raw.baseAddress!, byteCount: raw.count, sequence: 0, captureNs: 0, dequeueNs: 0)
        try pre.prepare(frame, into: UnsafeMutableRawPointer(tensor.baseAddress!))
    }
}
