import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import SupportBotServer

/// The outbox's limit on unwritten lines, over a real loopback connection: a client that stops reading must not make
/// the server hold ever more lines in memory, and one that reads is never cut off however much it is sent.
@Suite("Outbox", .timeLimit(.minutes(1)))
struct OutboxTests {
    /// A server socket that hands over its first accepted connection, and a client connected to it.
    private struct Pair {
        let server: any Channel
        let accepted: any Channel
        let client: any Channel
        /// Counts the bytes the client has read (it reads only when `reads` was true).
        let counter: Counter
        var received: Int { counter.received.withLock { $0 } }

        func close() async {
            try? await client.close()
            try? await accepted.close()
            try? await server.close()
        }
    }

    private final class Counter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex(0)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data).readableBytes
            received.withLock { $0 += bytes }
        }
    }

    private func connect(reads: Bool) async throws -> Pair {
        let group = MultiThreadedEventLoopGroup.singleton
        let acceptedPromise = group.next().makePromise(of: (any Channel).self)
        let server = try await ServerBootstrap.supportBot(group: group)
            .childChannelInitializer { channel in
                acceptedPromise.succeed(channel)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let counter = Counter()
        let client = try await ClientBootstrap(group: group)
            // A client that never reads: nothing is taken off its socket, so the server's writes back up.
            .channelOption(.autoRead, value: reads)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
            }
            .connect(host: "127.0.0.1", port: server.localAddress!.port!).get()
        let accepted = try await acceptedPromise.futureResult.get()
        return Pair(server: server, accepted: accepted, client: client, counter: counter)
    }

    private static func line(_ size: Int) -> [UInt8] { [UInt8](repeating: UInt8(ascii: "x"), count: size - 1) + [10] }

    @Test("a client that stops reading is cut off once more than 1000 lines wait to be written")
    func stalledClientIsClosed() async throws {
        let pair = try await connect(reads: false)
        let outbox = Outbox(channel: pair.accepted)
        // 64 KiB lines: the two sockets' buffers take at most a few megabytes, so well over 1000 lines stay unwritten.
        let line = Self.line(64 * 1024)
        for _ in 0..<(Outbox.maxPending + 200) { outbox.send(line) }
        // The connection is closed, and the lines that waited are dropped with it.
        let deadline = ContinuousClock.now + .seconds(20)
        while pair.accepted.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!pair.accepted.isActive, "the server still holds a connection whose client stopped reading")
        // Later lines are ignored, quietly; every line that waited is let go of.
        outbox.send(line)
        await pair.close()
        outbox.finish()
        await outbox.drained()
    }

    @Test("a client that reads gets every line, however many are sent")
    func readingClientGetsEverything() async throws {
        let pair = try await connect(reads: true)
        let outbox = Outbox(channel: pair.accepted)
        let line = Self.line(1024)
        let batches = 5, perBatch = Outbox.maxPending / 2
        for batch in 1...batches {
            for _ in 0..<perBatch { outbox.send(line) }
            // Wait until the client has read this batch: at most half the limit is ever unwritten.
            let expected = batch * perBatch * line.count
            let deadline = ContinuousClock.now + .seconds(20)
            while pair.received < expected, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(pair.received == batches * perBatch * line.count)
        #expect(pair.accepted.isActive, "a client that keeps reading was cut off")
        outbox.finish()
        await outbox.drained()
        await pair.close()
    }
}
