/// A setting of a channel, given to a bootstrap or to `Channel.setOption`.
///
/// ```swift
/// ServerBootstrap(group: group)
///     .serverOption(.backlog(1024))
///     .childOption(.autoRead(false))
/// ```
public enum ChannelOption: Sendable, Equatable {
    /// Disable Nagle's algorithm (on by default for TCP channels).
    case tcpNoDelay(Bool)
    /// `SO_REUSEADDR` (on by default for listening sockets).
    case reuseAddress(Bool)
    /// `SO_REUSEPORT`: several sockets may listen on one port.
    case reusePort(Bool)
    /// `SO_KEEPALIVE`.
    case keepAlive(Bool)
    /// The listen backlog (listening sockets; default 256).
    case backlog(Int32)
    /// `SO_RCVBUF` in bytes.
    case receiveBufferSize(Int32)
    /// `SO_SNDBUF` in bytes.
    case sendBufferSize(Int32)
    /// Read whenever data arrives (default true); when false, read only on `read()`.
    case autoRead(Bool)
    /// On end-of-stream from the peer, keep the channel open for writing and fire
    /// `ChannelEvent.inputClosed` instead of closing (default false).
    case allowRemoteHalfClosure(Bool)
    /// The channel turns unwritable above `high` queued bytes and writable again below `low`
    /// (default 32 KiB / 64 KiB).
    case writeBufferWaterMark(low: Int, high: Int)
    /// How many reads one readable event may do before yielding to other channels (default 4).
    case maxReadsPerEvent(Int)
    /// How long a client may take to connect (default 10 s).
    case connectTimeout(Duration)
}
