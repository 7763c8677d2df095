import ArgumentParser

@main
struct EdgeSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgeseg",
        abstract: "Fixed-memory int8/FP16 segmentation runtime for ARM Linux inspection boards.",
        subcommands: [Demo.self, Run.self, CompileCommand.self, Infer.self, InfoCommand.self, BenchCommand.self, Receive.self, CamerasCommand.self])
}
