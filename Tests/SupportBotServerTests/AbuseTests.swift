import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import SupportBotServer

/// A raw TCP connection that sends nothing unless told to, for connections a peer holds open on purpose.
struct RawConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func open(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    /// Reads until the server closes the connection; the text it sent, or nil if it is still open after `timeout`
    /// (a safety net: the server closes such connections at once).
    func textUntilClosed(timeout: Duration = .seconds(30)) async -> String? {
        let channel = channel
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                var text = ""
                do {
                    try await channel.executeThenClose { inbound, _ in
                        for try await buffer in inbound { text += String(buffer: buffer) }
                    }
                } catch {}
                return text
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            channel.channel.close(promise: nil)
            return first
        }
    }

    func close() { channel.channel.close(promise: nil) }
}

@Suite("Abuse: limits a peer can't get around", .timeLimit(.minutes(5)))
struct AbuseTests {
    @Test("web connections over the plain-HTTP limit are closed at once, not kept (D1)")
    func plainWebConnectionsOverTheLimitAreClosed() async throws {
        let running = try await RunningServer.start(web: true) {
            $0.maxPlainWebConnections = 3
            $0.webRequestDeadlineSeconds = 600
        }
        // Eight connections that send nothing: whichever five the server sets up last are over the limit, and closed.
        var held: [RawConnection] = []
        for _ in 0..<8 { held.append(try await RawConnection.open(port: running.webPort)) }
        let closed = await withTaskGroup(of: Bool.self) { group in
            for connection in held { group.addTask { await connection.textUntilClosed() != nil } }
            var count = 0
            for await wasClosed in group where wasClosed {
                count += 1
                if count == 5 { break }
            }
            group.cancelAll()
            return count
        }
        #expect(closed == 5, "connections over the limit were kept open")
        // Closing the held ones frees their places: a page loads again.
        for connection in held { connection.close() }
        var page: HTTPExchange?
        for _ in 0..<1000 where page?.status != 200 {
            page = try? await HTTPExchange.get(port: running.webPort, "/healthz")
            if page?.status != 200 { await Task.yield() }
        }
        #expect(page?.status == 200)
        await running.stop()
    }
}
