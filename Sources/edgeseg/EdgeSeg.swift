import ArgumentParser

@main
struct EdgeSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgeseg",
        abstract: "Fixed-memory int8/FP16 segmentation runtime for ARM Linux inspection boards.",
        subcommands: [Receive.self, CamerasCommand.self])
}
