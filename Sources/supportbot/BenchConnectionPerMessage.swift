import Foundation
import SupportBotCore
#if canImport(Glibc)
import Glibc
#endif

/// The load of a widget that opens a new connection for every question: each of `users` at once, over and over,
/// connects, reads the welcome, sends one line, reads the reply and closes. A message's time runs from the connect
/// to the reply.
///
/// Each user is a thread of its own with plain blocking sockets: a client as light as it can be, so the figures are
/// the server's (a NIO client bootstrap per connection cost about as much CPU as the server's whole answer).
extension LoadDriver {
    static func runConnectionPerMessage(port: Int, users: Int, messages: Int, lines: [[UInt8]], expectsWelcome: Bool,
                                        think: Duration) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let cpuAtStart = CPUClock.process()
        let thinkMicroseconds = UInt32(clamping: think.components.seconds * 1_000_000
                                       + think.components.attoseconds / 1_000_000_000_000)
        let outcomes = await withTaskGroup(of: UserOutcome.self) { group in
            for user in 0..<users {
                let count = messages / users + (user < messages % users ? 1 : 0)
                group.addTask {
                    await onThread {
                        var outcome = UserOutcome()
                        outcome.timings.reserveCapacity(count)
                        var client = BlockingLineClient()
                        for n in 0..<count {
                            let line = lines[(user * 7919 + n) % lines.count]
                            let sent = clock.now
                            guard let reply = client.exchange(port: port, line: line, expectsWelcome: expectsWelcome)
                            else {
                                outcome.failure = client.lastError
                                break
                            }
                            outcome.timings.append((sent, (clock.now - sent).milliseconds))
                            if reply.starts(with: Array(#"{"type":"error""#.utf8)) { outcome.errors += 1 }
                            if thinkMicroseconds > 0 { usleep(thinkMicroseconds) }
                        }
                        return outcome
                    }
                }
            }
            var all: [UserOutcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        if let failure = outcomes.compactMap(\.failure).first, outcomes.allSatisfy({ $0.timings.isEmpty }) {
            throw UserFacingError("Could not talk to the server on port \(port): \(failure).")
        }
        return Result(samples: outcomes.flatMap(\.timings), errors: outcomes.map(\.errors).reduce(0, +), since: start,
                      cpuAtStart: cpuAtStart)
    }

    private struct UserOutcome: Sendable {
        var timings: [(sent: ContinuousClock.Instant, milliseconds: Double)] = []
        var errors = 0
        var failure: String?
    }

    /// Runs `body` on a new thread (blocking calls stay off the cooperative pool) and returns its result.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}

/// One short connection at a time over a blocking TCP socket to 127.0.0.1.
struct BlockingLineClient {
    private(set) var lastError: String?
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    /// Connects, reads the welcome line (when there is one), sends `line`, reads one line back and closes.
    /// Nil when something failed (`lastError` says what).
    mutating func exchange(port: Int, line: [UInt8], expectsWelcome: Bool) -> [UInt8]? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return fail("socket") }
        defer { close(socket) }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return fail("connect") }
        var pending: [UInt8] = []
        if expectsWelcome, readLine(socket, into: &pending) == nil { return fail("reading the welcome") }
        let sent = line.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == line.count else { return fail("send") }
        guard let reply = readLine(socket, into: &pending) else { return fail("reading the reply") }
        return reply
    }

    /// The next line from `socket`, reading more into `pending` as needed; nil at end of stream or on error.
    private mutating func readLine(_ socket: Int32, into pending: inout [UInt8]) -> [UInt8]? {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<end])
                pending.removeFirst(end + 1)
                return line
            }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            pending += buffer[..<count]
        }
    }

    private mutating func fail(_ step: String) -> [UInt8]? {
        lastError = "\(step) failed: \(String(cString: strerror(errno)))"
        return nil
    }
}
