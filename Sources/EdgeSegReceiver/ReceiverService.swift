#if canImport(Glibc)
import Glibc
#endif
import EdgeSegLink
import Foundation

/// Runs a LinkReceiver on one background thread (the CLI's `receive` and `edgeseg demo`'s
/// loopback PC side). start() binds/opens, stop() joins the thread. Thread-safe accessors.
public final class ReceiverService: @unchecked Sendable {
    public enum Endpoint: Sendable {
        case udp(IPv4Endpoint)
        case serial(path: String, baud: Int)
        /// An already open tty descriptor (tests: one side of an openpty pair). Not closed by us.
        case serialDescriptor(Int32, baud: Int)
    }

    private let lock = NSLock()
    private let endpoint: Endpoint
    private let options: LinkReceiver.Options
    private let storePath: String?
    private let onEvent: @Sendable (ReceivedEvent) -> Void
    private var thread: Thread?
    private var stopRequested = false
    private var finished = DispatchSemaphore(value: 0)
    private var snapshot = ReceiverCounters()
    private var boundEndpoint: IPv4Endpoint?

    public init(endpoint: Endpoint, options: LinkReceiver.Options = .init(), storePath: String? = nil,
                onEvent: @escaping @Sendable (ReceivedEvent) -> Void = { _ in }) {
        self.endpoint = endpoint; self.options = options; self.storePath = storePath; self.onEvent = onEvent
    }

    /// Counters as of the last processed batch.
    public var counters: ReceiverCounters { lock.withLock { snapshot } }
    /// The bound UDP address (useful with port 0).
    public var localEndpoint: IPv4Endpoint? { lock.withLock { boundEndpoint } }

    /// Opens the endpoint and the alarm store, then starts the thread. Throws on open errors.
    public func start() throws {
        let store = try AlarmStore(path: storePath)
        let receiver = LinkReceiver(options: options, store: store, onEvent: onEvent)
        let run: () -> Void
        switch endpoint {
        case .udp(let ep):
            let socket = try UDPSocket(bind: ep)
            lock.withLock { boundEndpoint = socket.localEndpoint }
            var transport = UDPTransport(socket: socket, peer: nil, replyToSender: true)
            run = { [self] in loop(receiver, fd: socket.fd) { now in
                transport.receive { receiver.handle($0, reply: .udp(socket), now: now) }
            }; transport.deallocate() }
        case .serial(let path, let baud):
            let port = try SerialPort(path: path, baud: baud)
            var transport = SerialTransport(port: port)
            run = { [self] in loop(receiver, fd: port.fd) { now in
                transport.receive { receiver.handle($0, reply: .serial(port), now: now) }
            }; transport.deallocate() }
        case .serialDescriptor(let fd, let baud):
            let port = try SerialPort(descriptor: fd, baud: baud, takeOwnership: false)
            var transport = SerialTransport(port: port)
            run = { [self] in loop(receiver, fd: port.fd) { now in
                transport.receive { receiver.handle($0, reply: .serial(port), now: now) }
            }; transport.deallocate() }
        }
        // The closure and everything it captures are used by the new thread only.
        let body = UncheckedBox(run)
        let t = Thread { body.value() }
        t.name = "edgeseg-receiver"
        thread = t
        t.start()
    }

    private func loop(_ receiver: LinkReceiver, fd: Int32, _ drain: (UInt64) -> Void) {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !lock.withLock({ stopRequested }) {
            _ = poll(&pfd, 1, 20)
            let now = monotonicNanos()
            drain(now)
            receiver.checkSilence(now: now)
            let c = receiver.counters
            lock.withLock { snapshot = c }
        }
        finished.signal()
    }

    /// Stops the thread and waits for it (at most one poll period).
    public func stop() {
        guard thread != nil else { return }
        lock.withLock { stopRequested = true }
        finished.wait()
        thread = nil
    }
}

struct UncheckedBox<T>: @unchecked Sendable { let value: T; init(_ v: T) { value = v } }
