import NIOCore

/// One inbound line, the news that a line went over the limit, or that the client has been quiet too long.
public enum InboundLine: Sendable {
    case line([UInt8])
    case tooLong
    case idle
}

/// Splits the byte stream into `\n`-terminated lines (a trailing `\r` is dropped), with a hard limit:
/// a line longer than `maximumLength` bytes is reported as `.tooLong` and the rest of the stream is dropped,
/// so a client can never make the server buffer more than about `maximumLength` bytes.
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = InboundLine

    let maximumLength: Int
    private var scannedBytes = 0
    private var overflowed = false

    public init(maximumLength: Int) { self.maximumLength = maximumLength }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if overflowed {
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let searchStart = view.startIndex + scannedBytes
        if let newline = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            scannedBytes = 0
            if length > maximumLength + 1 || (length == maximumLength + 1 && view[newline - 1] != UInt8(ascii: "\r")) {
                return overflow(context: context, buffer: &buffer)
            }
            var bytes = Array(view[view.startIndex..<newline])
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            buffer.moveReaderIndex(forwardBy: length + 1)
            context.fireChannelRead(wrapInboundOut(.line(bytes)))
            return .continue
        }
        scannedBytes = view.count
        if view.count > maximumLength + 1 { return overflow(context: context, buffer: &buffer) }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                             seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if !overflowed, buffer.readableBytes > 0 {
            let bytes = Array(buffer.readableBytesView)
            buffer.moveReaderIndex(forwardBy: bytes.count)
            context.fireChannelRead(wrapInboundOut(bytes.count > maximumLength ? .tooLong : .line(bytes)))
        }
        return .needMoreData
    }

    private mutating func overflow(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        overflowed = true
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        context.fireChannelRead(wrapInboundOut(.tooLong))
        return .needMoreData
    }
}
