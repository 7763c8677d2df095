import Glibc

/// Whole-file read without Foundation (the VM checks ship only the Swift core runtime).
public func readFile(_ path: String) throws(CaptureError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .fileError(path: path, errno: errno) }
    defer { Glibc.close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .fileError(path: path, errno: errno) }
    let size = Int(st.st_size)
    var bytes = [UInt8](repeating: 0, count: size)
    let got = bytes.withUnsafeMutableBytes { readFully(fd, $0.baseAddress!, size) }
    guard got == size else { throw .fileError(path: path, errno: got < 0 ? errno : EIO) }
    return bytes
}

/// Reads up to `count` bytes, retrying short reads; returns bytes read or -1.
func readFully(_ fd: Int32, _ dst: UnsafeMutableRawPointer, _ count: Int) -> Int {
    var done = 0
    while done < count {
        let r = read(fd, dst + done, count - done)
        if r < 0 { if errno == EINTR { continue }; return -1 }
        if r == 0 { break }
        done += r
    }
    return done
}

public func writeFile(_ path: String, _ bytes: [UInt8]) throws(CaptureError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .fileError(path: path, errno: errno) }
    defer { Glibc.close(fd) }
    var done = 0
    while done < bytes.count {
        let r = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if r < 0 { if errno == EINTR { continue }; throw .fileError(path: path, errno: errno) }
        done += r
    }
}

/// Regular files in a directory whose names end in one of `extensions` (lower-cased), sorted by name.
public func listFiles(in directory: String, extensions: [String]) throws(CaptureError) -> [String] {
    guard let dir = opendir(directory) else { throw .fileError(path: directory, errno: errno) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let lower = name.lowercased()
        if !name.hasPrefix("."), extensions.contains(where: { lower.hasSuffix("." + $0) }) { names.append(name) }
    }
    let base = directory.hasSuffix("/") ? directory : directory + "/"
    return names.sorted().map { base + $0 }
}
