import NIOCore
import NIOWebSocket

/// Makes a WebSocket look like a JSON Lines connection, so the customer and agent sessions run unchanged on it:
/// each inbound text (or binary) message becomes one `InboundLine`, each outbound line one text frame.
///
/// - Messages split into fragments are joined; a message over `maximumLength` bytes becomes `.tooLong` (the session
///   then answers `line_too_long` and closes, as on TCP), and everything after it is dropped.
/// - Pings get pongs, at most `pingsPerSecond` on average and only while the client reads what it is sent, so a
///   ping flood can't make the server buffer without end.
/// - A frame that breaks RFC 6455 (not masked, reserved bits or opcodes, a fragment out of place) closes the
///   connection with 1002 (protocol error).
/// - A close frame from the client is answered with a close frame, then the connection closes. When the server
///   closes the connection, a close frame goes out first, so browsers see a clean close.
final class WebSocketLineAdapter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = InboundLine
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private let maximumLength: Int
    /// The message being put together from fragments.
    private var pending: [UInt8] = []
    private var inMessage = false
    /// After `.tooLong`, the rest of the input is thrown away.
    private var overflowed = false
    private var closeSent = false
    private var pings = RateLimiter(burst: 10, perSecond: 2)

    init(maximumLength: Int) { self.maximumLength = maximumLength }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !closeSent else { return }
        // Clients must mask every frame, and no extension is agreed, so the reserved bits stay clear.
        guard frame.maskKey != nil, !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            return protocolError(context: context)
        }
        switch frame.opcode {
        case .text, .binary, .continuation:
            // A new message may not start inside a fragmented one, and a continuation needs one to continue.
            guard (frame.opcode == .continuation) == inMessage else { return protocolError(context: context) }
            if frame.opcode != .continuation {
                pending.removeAll(keepingCapacity: true)
                inMessage = true
            }
            if frame.fin { inMessage = false }
            guard !overflowed else { return }
            let payload = frame.unmaskedData
            guard pending.count + payload.readableBytes <= maximumLength else {
                overflowed = true
                pending = []
                context.fireChannelRead(wrapInboundOut(.tooLong))
                return
            }
            pending.append(contentsOf: payload.readableBytesView)
            guard frame.fin else { return }
            let line = pending
            pending.removeAll(keepingCapacity: true)
            context.fireChannelRead(wrapInboundOut(.line(line)))
        case .ping:
            // RFC 6455 lets a busy endpoint answer only some pings; a client that does not read gets none.
            guard context.channel.isWritable, pings.allow() else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            // Echo a valid code (or none), then close: the session hears that the client went away.
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self)
            var reply = context.channel.allocator.buffer(capacity: 2)
            if let code {
                let valid = (1000...1003).contains(code) || (1007...1011).contains(code) || (3000...4999).contains(code)
                reply.writeInteger(valid ? code : 1002)
            }
            sendClose(context: context, data: reply)
        default:
            protocolError(context: context)
        }
    }

    private func protocolError(context: ChannelHandlerContext) {
        var code = context.channel.allocator.buffer(capacity: 2)
        code.write(webSocketErrorCode: .protocolError)
        sendClose(context: context, data: code)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The session writes lines ending in "\n", sometimes several at once: one text frame each.
        let buffer = unwrapOutboundIn(data)
        let bytes = buffer.readableBytesView
        var frames: [ByteBuffer] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            if end > start { frames.append(buffer.getSlice(at: start, length: end - start)!) }
            start = end + 1
        }
        guard !closeSent, let last = frames.popLast() else {
            promise?.succeed(())
            return
        }
        for frame in frames {
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: frame)), promise: nil)
        }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: last)), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, !closeSent, context.channel.isActive else {
            context.close(mode: mode, promise: promise)
            return
        }
        var code = context.channel.allocator.buffer(capacity: 2)
        code.write(webSocketErrorCode: .normalClosure)
        sendClose(context: context, data: code, promise: promise)
    }

    /// Writes a close frame and closes the connection once it is out (or could not be written).
    private func sendClose(context: ChannelHandlerContext, data: ByteBuffer, promise: EventLoopPromise<Void>? = nil) {
        guard !closeSent else { return }
        closeSent = true
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
            bound.value.close(mode: .all, promise: promise)
        }
    }
}
