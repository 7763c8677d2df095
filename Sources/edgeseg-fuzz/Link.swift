// Fuzz target: hostile bytes into the PC receiver exactly as its transports deliver them —
// UDP datagrams, or a serial byte stream through SerialDeframer (COBS + CRC) — then LinkReceiver:
// parseFrame, HMAC check, parseBody, replay window, alarm store + ACK, MaskRLE reassembly.
// Part of edgeseg-fuzz (Fuzz.swift picks the target).
//
// Input: one mode byte, then the transport bytes.
//   mode bit 0: the receiver holds the golden key (tools/protocol/golden/key.hex), so HMAC'd
//               messages are verified; otherwise it runs without a key.
//   mode bit 1: serial — the rest is one raw byte stream for SerialDeframer.
//               Otherwise UDP — the rest is datagrams, each a u16 little-endian length then
//               that many bytes (the last one takes whatever is left).
import EdgeSegLink
import EdgeSegReceiver

let goldenKey = MessageAuthenticator(keyBytes: (0..<32).map { UInt8($0) })
// One in-memory store for the whole run: opening SQLite per input would dominate the time.
let store = try! AlarmStore(path: nil)
// ACKs go back through a real socket to itself on loopback (drops when its buffer is full).
// libFuzzer calls the target from one thread only.
nonisolated(unsafe) let ackSocket = try! UDPSocket(bind: IPv4Endpoint(address: UInt32(0x7f00_0001).bigEndian, port: 0))
let ackPeer = ackSocket.localEndpoint
let deframerFrameMax = Wire.maxSerialFrame

func fuzzLink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let mode = data[0]
    let receiver = LinkReceiver(options: .init(authenticator: mode & 1 != 0 ? goldenKey : nil), store: store,
                                onEvent: { _ in })
    let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    var now: UInt64 = 1_000_000_000
    if mode & 2 != 0 {
        var deframer = SerialDeframer(maxFrame: deframerFrameMax)
        defer { deframer.deallocate() }
        deframer.push(rest) { event in
            now += 1_000_000
            switch event {
            case .frame(let body): receiver.handle(.message(body, from: nil), reply: .udp(ackSocket), now: now)
            case .rejected(let r): receiver.handle(.rejected(r), reply: .udp(ackSocket), now: now)
            }
        }
    } else {
        var i = 0
        while i < rest.count {
            var n = rest.count - i
            if n >= 2 {
                n = min(Int(rest[i]) | Int(rest[i + 1]) << 8, n - 2)
                i += 2
            }
            let datagram = UnsafeRawBufferPointer(rebasing: rest[i..<(i + n)])
            i += n
            now += 1_000_000
            receiver.handle(.message(datagram, from: ackPeer), reply: .udp(ackSocket), now: now)
        }
    }
    receiver.checkSilence(now: now + 10_000_000_000)
    return 0
}
