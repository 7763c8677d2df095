import Foundation
import Testing
@testable import EdgeSegPipeline

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Test func everyShippedProfileLoads() throws {
    let dir = repoRoot.appendingPathComponent("boards")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.sorted()
    #expect(files == ["host.toml", "imx8mp.toml", "jetson-nano.toml", "rk3588.toml", "rpi4.toml", "rpi5.toml"])
    for f in files {
        let p = try BoardProfile.load(path: dir.appendingPathComponent(f).path)
        #expect(p.inspect.rules.map(\.name) == ["broken_wire", "wear"], "\(f)")
    }
    let rk = try BoardProfile.load(path: dir.appendingPathComponent("rk3588.toml").path)
    #expect(rk.board.affinity == [4, 5, 6, 7] && rk.model.precision == .int8 && rk.camera.format == .mjpeg)
    let imx = try BoardProfile.load(path: dir.appendingPathComponent("imx8mp.toml").path)
    #expect(imx.link.transport == .serial && imx.link.serialDevice == "/dev/ttymxc1" && imx.camera.format == .yuyv)
}

private func parseError(_ text: String) -> ProfileError? {
    do { _ = try BoardProfile.parse(text, file: "b.toml"); return nil } catch let e as ProfileError { return e } catch { return nil }
}

@Test func unknownKeyNamesFileLineAndKey() {
    let e = parseError("[board]\nname = \"x\"\nthraeds = 4\n")
    #expect(e?.description == "b.toml:3: board.thraeds: unknown key in [board]")
}

@Test func unknownSectionIsRejected() {
    #expect(parseError("[camera]\nfps = 5\n\n[modle]\npath = \"x\"\n")?.line == 4)
}

@Test func badValuesNameTheKey() {
    #expect(parseError("[board]\nthreads = 0\n")?.description == "b.toml:2: board.threads: 0 is outside 1…64")
    #expect(parseError("[camera]\nformat = \"h264\"\n")?.description == "b.toml:2: camera.format: \"h264\" is not one of mjpeg, yuyv")
    #expect(parseError("[camera]\nfps = \"fast\"\n")?.key == "camera.fps")
    #expect(parseError("[link]\nudp_target = \"nohost\"\n")?.key == "link.udp_target")
    #expect(parseError("[camera]\nsource = \"mjpeg\"\n")?.key == "camera.path")
    #expect(parseError("[preprocess]\nfit = \"roi\"\n")?.key == "preprocess.fit")
    #expect(parseError("[inspect.rules.wear]\nclass = 1\npersist_k = 5\npersist_n = 3\n")?.description
            == "b.toml:4: inspect.rules.wear.persist_n: must be ≥ persist_k (5)")
    #expect(parseError("[inspect.rules.wear]\nclass = 1\nmin_area = 3\n")?.key == "inspect.rules.wear.min_area")
}

@Test func syntaxErrorsCarryTheirLine() {
    let e = parseError("[board]\nname = \"x\"\nthreads = = 2\n")
    #expect(e?.line == 3)
}

@Test func missingFileIsAClearError() {
    #expect(throws: ProfileError.self) { try BoardProfile.load(path: "/nonexistent/board.toml") }
}
