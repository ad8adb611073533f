import NIOCore
import NIOWebSocket

/// Makes a WebSocket look like a JSON Lines connection, so the customer and agent sessions run unchanged on it:
/// each inbound text (or binary) message becomes one `InboundLine`, each outbound line one text frame.
///
/// - Messages split into fragments are joined; a message over `maximumLength` bytes becomes `.tooLong` (the session
///   then answers `line_too_long` and closes, as on TCP), and everything after it is dropped.
/// - Pings get pongs. A close frame from the client is answered with a close frame, then the connection closes.
/// - When the server closes the connection, a close frame goes out first, so browsers see a clean close.
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

    init(maximumLength: Int) { self.maximumLength = maximumLength }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            if frame.opcode == .continuation && !inMessage { return }
            if frame.opcode != .continuation {
                pending.removeAll(keepingCapacity: true)
                inMessage = true
            }
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
            inMessage = false
            let line = pending
            pending.removeAll(keepingCapacity: true)
            context.fireChannelRead(wrapInboundOut(.line(line)))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            // Echo the client's code (if any), then close: the session hears that the client went away.
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? ByteBuffer()
            sendClose(context: context, data: code)
        default:
            break
        }
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
