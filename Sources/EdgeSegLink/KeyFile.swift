import Foundation

// Shared HMAC key file: either hex text (≥ 32 hex digits, whitespace ignored, e.g. from
// `openssl rand -hex 32`) or raw bytes (≥ 16 bytes, e.g. `head -c 32 /dev/urandom`).

public enum KeyFileError: Error, CustomStringConvertible {
    case unreadable(String)
    case tooShort(String, Int)
    public var description: String {
        switch self {
        case .unreadable(let p): "cannot read key file \(p)"
        case .tooShort(let p, let n): "key file \(p) holds only \(n) key bytes (need at least 16)"
        }
    }
}

public func parseKey(_ data: [UInt8]) -> [UInt8] {
    let text = data.filter { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
    if text.count >= 32, text.count % 2 == 0, text.allSatisfy({ hex($0) != nil }) {
        return stride(from: 0, to: text.count, by: 2).map { hex(text[$0])! << 4 | hex(text[$0 + 1])! }
    }
    return data
}

public func loadKeyFile(_ path: String) throws -> MessageAuthenticator {
    guard let d = FileManager.default.contents(atPath: path) else { throw KeyFileError.unreadable(path) }
    let key = parseKey([UInt8](d))
    guard key.count >= 16 else { throw KeyFileError.tooShort(path, key.count) }
    return MessageAuthenticator(keyBytes: key)
}
