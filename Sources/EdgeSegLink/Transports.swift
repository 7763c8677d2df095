#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// UDP and serial transports. Neither ever blocks: sends that the OS cannot take at once
// are reported (UDP) or buffered up to a fixed bound (serial), receives return what is there.

public enum TransportInput {
    /// `from`: the datagram's source (UDP), nil on serial.
    case message(UnsafeRawBufferPointer, from: IPv4Endpoint?)
    case rejected(RejectReason)
}

/// What BoardLink and the receiver need from a transport. Generic use (no existential).
public protocol LinkTransport {
    /// Hands one message to the OS without blocking. false: not sent (caller counts it).
    mutating func send(_ message: UnsafeRawBufferPointer) -> Bool
    /// Delivers every message that has arrived, without blocking.
    mutating func receive(_ handle: (TransportInput) -> Void)
    /// Pushes buffered output (serial); no-op for datagrams.
    mutating func flush()
    /// File descriptor to wait on with poll(2).
    var fileDescriptor: Int32 { get }
}

public struct TransportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ what: String, errno e: Int32 = errno) {
        description = e == 0 ? what : "\(what): \(String(cString: strerror(e)))"
    }
}

public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

// MARK: UDP

public struct IPv4Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var address: UInt32  // network byte order, as in sockaddr_in
    public var port: UInt16     // host byte order

    public init(address: UInt32, port: UInt16) { self.address = address; self.port = port }

    /// Parses "a.b.c.d:port".
    public init(parsing s: String) throws {
        guard let colon = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: colon)...]) else {
            throw TransportError("expected HOST:PORT, got '\(s)'", errno: 0)
        }
        var addr = in_addr()
        let host = String(s[..<colon])
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr) == 1 else {
            throw TransportError("not an IPv4 address: '\(host)'", errno: 0)
        }
        self.address = addr.s_addr; self.port = port
    }

    var sockaddr: sockaddr_in {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr.s_addr = address
        return sa
    }
    init(_ sa: sockaddr_in) { address = sa.sin_addr.s_addr; port = UInt16(bigEndian: sa.sin_port) }

    public var description: String {
        let b = withUnsafeBytes(of: address) { Array($0) }
        return "\(b[0]).\(b[1]).\(b[2]).\(b[3]):\(port)"
    }
}

/// A non-blocking IPv4 UDP socket.
public final class UDPSocket {
    public let fd: Int32

    /// Binds to `local` (port 0: any free port).
    public init(bind local: IPv4Endpoint) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw TransportError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = local.sockaddr
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { let e = errno; close(fd); throw TransportError("bind \(local)", errno: e) }
    }
    deinit { close(fd) }

    public var localEndpoint: IPv4Endpoint {
        var sa = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return IPv4Endpoint(sa)
    }

    /// Returns bytes sent, or -1 with errno set. Never blocks.
    public func send(_ bytes: UnsafeRawBufferPointer, to peer: IPv4Endpoint) -> Int {
        var sa = peer.sockaddr
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), $0,
                       socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Reads one datagram. Returns its true length (may exceed `into.count`: truncated), or
    /// nil when nothing is waiting.
    public func receive(into buf: UnsafeMutableRawBufferPointer) -> (length: Int, from: IPv4Endpoint)? {
        var sa = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, buf.baseAddress, buf.count, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC), $0, &len)
            }
        }
        guard n >= 0 else { return nil }
        return (n, IPv4Endpoint(sa))
    }
}

/// UDP transport. A board sends to a fixed peer; a receiver replies to whoever sent last.
public struct UDPTransport: LinkTransport {
    public let socket: UDPSocket
    public var peer: IPv4Endpoint?
    public let replyToSender: Bool
    public private(set) var lastSender: IPv4Endpoint?
    public private(set) var sendErrors: UInt64 = 0
    public private(set) var lastSendErrno: Int32 = 0
    private let rx: UnsafeMutableRawBufferPointer

    public init(socket: UDPSocket, peer: IPv4Endpoint?, replyToSender: Bool = false) {
        self.socket = socket; self.peer = peer; self.replyToSender = replyToSender
        // Larger than any valid message so an oversized datagram is seen as such.
        rx = .allocate(byteCount: Wire.maxMessageSize + 64, alignment: 8)
    }
    public func deallocate() { rx.deallocate() }

    public var fileDescriptor: Int32 { socket.fd }

    public mutating func send(_ message: UnsafeRawBufferPointer) -> Bool {
        guard let to = replyToSender ? lastSender ?? peer : peer else { sendErrors += 1; return false }
        if socket.send(message, to: to) == message.count { return true }
        lastSendErrno = errno
        sendErrors += 1
        return false
    }

    public mutating func receive(_ handle: (TransportInput) -> Void) {
        while let (n, from) = socket.receive(into: rx) {
            lastSender = from
            if n > rx.count { handle(.rejected(.oversized)); continue }
            handle(.message(UnsafeRawBufferPointer(rebasing: rx[0..<n]), from: from))
        }
    }
    public mutating func flush() {}
}

// MARK: Serial

public func termiosSpeed(baud: Int) -> speed_t? {
    switch baud {
    case 9600: speed_t(B9600)
    case 19200: speed_t(B19200)
    case 38400: speed_t(B38400)
    case 57600: speed_t(B57600)
    case 115_200: speed_t(B115200)
    case 230_400: speed_t(B230400)
    #if canImport(Glibc)
    case 460_800: speed_t(B460800)
    case 500_000: speed_t(B500000)
    case 921_600: speed_t(B921600)
    case 1_000_000: speed_t(B1000000)
    case 1_500_000: speed_t(B1500000)
    case 2_000_000: speed_t(B2000000)
    case 3_000_000: speed_t(B3000000)
    case 4_000_000: speed_t(B4000000)
    #endif
    default: nil
    }
}

/// Puts a tty into raw 8N1 mode at `baud`, non-blocking.
public func configureRawSerial(fd: Int32, baud: Int) throws {
    guard let speed = termiosSpeed(baud: baud) else { throw TransportError("unsupported baud rate \(baud)", errno: 0) }
    var t = termios()
    guard tcgetattr(fd, &t) == 0 else { throw TransportError("tcgetattr (not a tty?)") }
    cfmakeraw(&t)
    t.c_cflag |= tcflag_t(CLOCAL | CREAD)
    t.c_cflag &= ~tcflag_t(CSTOPB)
    #if canImport(Glibc)
    t.c_cflag &= ~tcflag_t(CRTSCTS)
    #endif
    // VMIN = VTIME = 0: read returns what is there (we also use O_NONBLOCK).
    withUnsafeMutableBytes(of: &t.c_cc) { cc in cc[Int(VMIN)] = 0; cc[Int(VTIME)] = 0 }
    cfsetispeed(&t, speed); cfsetospeed(&t, speed)
    guard tcsetattr(fd, TCSANOW, &t) == 0 else { throw TransportError("tcsetattr") }
}

public final class SerialPort {
    public let fd: Int32
    public let ownsDescriptor: Bool

    public init(path: String, baud: Int) throws {
        fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw TransportError("open \(path)") }
        ownsDescriptor = true
        do { try configureRawSerial(fd: fd, baud: baud) } catch { close(fd); throw error }
    }
    /// Wraps an already open tty (e.g. one side of an openpty pair).
    public init(descriptor: Int32, baud: Int, takeOwnership: Bool = true) throws {
        fd = descriptor; ownsDescriptor = takeOwnership
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        try configureRawSerial(fd: fd, baud: baud)
    }
    deinit { if ownsDescriptor { close(fd) } }
}

/// Serial transport: COBS + CRC-32 frames, a bounded transmit buffer drained without blocking.
public struct SerialTransport: LinkTransport {
    public let port: SerialPort
    public private(set) var deframer = SerialDeframer()
    public private(set) var sendErrors: UInt64 = 0
    /// Messages refused because the transmit buffer was full (the line is slower than the traffic).
    public private(set) var txOverflows: UInt64 = 0
    private let scratch: UnsafeMutableRawBufferPointer
    private let frame: UnsafeMutableRawBufferPointer
    private let tx: UnsafeMutableRawBufferPointer
    private var txStart = 0, txEnd = 0
    private let rx: UnsafeMutableRawBufferPointer

    public init(port: SerialPort, transmitBufferBytes: Int = 64 * 1024) {
        self.port = port
        scratch = .allocate(byteCount: Wire.maxMessageSize + 4, alignment: 8)
        frame = .allocate(byteCount: Wire.maxSerialFrame + 1, alignment: 8)
        tx = .allocate(byteCount: max(transmitBufferBytes, Wire.maxSerialFrame + 1), alignment: 8)
        rx = .allocate(byteCount: 4096, alignment: 8)
    }
    public func deallocate() {
        scratch.deallocate(); frame.deallocate(); tx.deallocate(); rx.deallocate(); deframer.deallocate()
    }

    public var fileDescriptor: Int32 { port.fd }
    public var pendingBytes: Int { txEnd - txStart }

    public mutating func send(_ message: UnsafeRawBufferPointer) -> Bool {
        // A leading delimiter ends any garbage the far side may be holding, so one frame is
        // never glued to noise that preceded it.
        frame[0] = 0
        guard let n = encodeSerialFrame(message, scratch: scratch,
                                        into: UnsafeMutableRawBufferPointer(rebasing: frame[1...])) else {
            sendErrors += 1; return false
        }
        let len = n + 1
        if txEnd + len > tx.count, txStart > 0 {  // compact
            let live = txEnd - txStart
            if live > 0 { tx.baseAddress!.copyMemory(from: tx.baseAddress! + txStart, byteCount: live) }
            txStart = 0; txEnd = live
        }
        guard txEnd + len <= tx.count else { txOverflows += 1; sendErrors += 1; return false }
        (tx.baseAddress! + txEnd).copyMemory(from: frame.baseAddress!, byteCount: len)
        txEnd += len
        flush()
        return true
    }

    public mutating func flush() {
        while txStart < txEnd {
            let n = write(port.fd, tx.baseAddress! + txStart, txEnd - txStart)
            if n > 0 { txStart += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { sendErrors += 1 }
            break
        }
        if txStart == txEnd { txStart = 0; txEnd = 0 }
    }

    public mutating func receive(_ handle: (TransportInput) -> Void) {
        while true {
            let n = read(port.fd, rx.baseAddress, rx.count)
            if n <= 0 { break }
            deframer.push(UnsafeRawBufferPointer(rebasing: rx[0..<n])) { event in
                switch event {
                case .frame(let m): handle(.message(m, from: nil))
                case .rejected(let r): handle(.rejected(r))
                }
            }
        }
    }
}
