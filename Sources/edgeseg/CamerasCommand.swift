import ArgumentParser
import EdgeSegCapture

/// `edgeseg cameras`: what each V4L2 capture node offers, to pick `[camera]` settings for a board.
struct CamerasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cameras",
        abstract: "List V4L2 capture devices with their native formats, frame sizes and frame rates.")

    @Option(help: "Only this device node (default: every /dev/video*).")
    var device: String?

    @Flag(help: "Also list formats EdgeSeg does not capture (Bayer, planar YUV, ...).")
    var all = false

    func run() throws {
        let nodes = device.map { [$0] } ?? listVideoNodes()
        if nodes.isEmpty { print("no /dev/video* devices"); return }
        for path in nodes {
            guard let info = describeCamera(path: path) else {
                print("\(path): cannot open (permissions? in use by another program?)")
                continue
            }
            guard info.canCapture else {
                print("\(path): \(info.card) (\(info.driver)) — not a streaming capture node")
                continue
            }
            print("\(path): \(info.card) (driver \(info.driver), bus \(info.busInfo))")
            let shown = all ? info.formats : info.formats.filter { $0.pixelFormat != nil && !$0.emulated }
            for f in shown {
                let use = f.pixelFormat.map { " [usable: \($0)]" } ?? ""
                print("  \(f.fourccText)  \(f.description)\(f.emulated ? " (emulated)" : "")\(use)")
                for s in f.sizes {
                    let rates = s.rates.map { r in r == r.rounded() ? String(Int(r)) : String(Double(Int(r * 100)) / 100) }
                    print("    \(s.width)x\(s.height)\(s.stepwise ? " (max of range)" : "")  fps: \(rates.joined(separator: ", "))")
                }
            }
            if shown.count < info.formats.count {
                print("  (+\(info.formats.count - shown.count) other formats; --all lists them)")
            }
        }
    }
}
