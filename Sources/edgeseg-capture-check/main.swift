// edgeseg-capture-check: checks EdgeSegCapture against a real V4L2 device (run inside the vivid
// VM by tools/ci.d/capture.sh), proves the frame loop allocates nothing, and benchmarks the
// fused preprocessing against decode-then-resize.
//
//   edgeseg-capture-check vm [--device /dev/video0] [--frames 50] [--fps 25]
//   edgeseg-capture-check alloc
//   edgeseg-capture-check bench [--iterations 60]
import EdgeSegCapture
import Glibc

let mode = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "help"
func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

switch mode {
case "vm":
    exit(runDeviceCheck(device: option("--device", "/dev/video0"), frames: Int(option("--frames", "50")) ?? 50,
                        fps: Double(option("--fps", "25")) ?? 25))
case "alloc":
    exit(runAllocationCheck())
case "bench":
    exit(runBenchmark(iterations: Int(option("--iterations", "60")) ?? 60))
default:
    print("usage: edgeseg-capture-check vm|alloc|bench [options]")
    exit(mode == "help" ? 0 : 2)
}
