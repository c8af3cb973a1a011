import Loop

/// Outbound DATA scheduling and send windows (RFC 9113 §5.2, §6.9): what the application
/// queued on each stream leaves as the stream's and the connection's windows allow, one
/// frame per stream per turn, round-robin, so one big response cannot starve the others.
/// Trailers and END_STREAM wait behind the stream's DATA.
///
/// It owns the connection's send window and the queue of streams ready to send; each
/// stream's queue and window live in its ``HTTP2StreamOutbound`` in the stream table, which
/// the connection lends for each call. No I/O: ``nextWrite(in:maxFrameSize:)`` returns what
/// to write, and the connection writes it.
///
/// ```swift
/// scheduler.beginPass()
/// while let write = scheduler.nextWrite(in: &streams, maxFrameSize: 16_384) {
///     // encode write.step for write.streamID
/// }
/// ```
struct HTTP2OutboundScheduler {
    /// What one turn of the scheduler sends for one stream.
    enum Step {
        /// A DATA frame (within both windows and the peer's SETTINGS_MAX_FRAME_SIZE).
        case data(ByteBuffer, endStream: Bool)
        /// Trailers with END_STREAM, after the last DATA.
        case trailers([HPACKHeader])
        /// An empty DATA frame with END_STREAM.
        case end
    }

    /// One thing to write: a frame (`step`), or only the news that the stream's queue fell
    /// to the threshold asked for (`becameWritable` with a nil step).
    struct Write {
        let streamID: UInt32
        let step: Step?
        /// The queued bytes fell to the threshold set with `notifyWhenBuffered`.
        let becameWritable: Bool

        /// END_STREAM goes out with this write: the stream's side is finished.
        let endsStream: Bool
    }

    /// The connection's send window (starts at 65,535, §6.9.2; only WINDOW_UPDATE on
    /// stream 0 grows it).
    private(set) var connectionWindow = SendWindow(65_535)
    private var ready = StreamQueue()
    /// Turns left in the current pass: each stream ready at its start gets one frame, and
    /// one more for each stream that stays ready (round-robin without looping forever).
    private var turns = 0
    /// Producing DATA is paused (the socket is not writable); control frames still go out.
    private(set) var isPaused = false
    /// DATA bytes queued on all streams and not yet sent (the connection's outbound budget,
    /// `HTTP2Configuration.maxQueuedOutboundBytes`, is checked against it).
    private(set) var queuedBytes = 0

    // MARK: Queueing

    /// Queues DATA (and END_STREAM) on a stream whose head went out and whose side is open.
    /// - Returns: false when the stream cannot take it (unknown, ended, or head not sent).
    mutating func queueData(_ data: ByteBuffer, endStream: Bool, streamID: UInt32, in streams: inout HTTP2StreamTable) -> Bool {
        let accepted = streams.modify(streamID) { stream -> Bool in
            guard stream.state.isLocalOpen, stream.state.localHeadSent, !stream.outbound.pendingEnd else { return false }
            if data.readableBytes > 0 {
                stream.outbound.pendingData.append(data)
                stream.outbound.pendingBytes += data.readableBytes
            }
            if endStream { stream.outbound.pendingEnd = true }
            return true
        }
        guard accepted == true else { return false }
        queuedBytes += data.readableBytes
        enqueueIfSendable(streamID, in: &streams)
        return true
    }

    /// Queues trailers, ending the stream after its DATA.
    /// - Returns: false when the stream's side is closed.
    mutating func queueTrailers(_ trailers: [HPACKHeader], streamID: UInt32, in streams: inout HTTP2StreamTable) -> Bool {
        let accepted = streams.modify(streamID) { stream -> Bool in
            guard stream.state.isLocalOpen else { return false }
            stream.outbound.pendingTrailers = trailers
            stream.outbound.pendingEnd = true
            return true
        }
        guard accepted == true else { return false }
        enqueueIfSendable(streamID, in: &streams)
        return true
    }

    /// Puts the stream in the ready queue if it has output it may send; true if it did.
    @discardableResult
    mutating func enqueueIfSendable(_ streamID: UInt32, in streams: inout HTTP2StreamTable) -> Bool {
        let queue = streams.modify(streamID) { stream -> Bool in
            guard !stream.outbound.isQueued, stream.outbound.isSendable else { return false }
            stream.outbound.isQueued = true
            return true
        }
        if queue == true { ready.push(streamID) }
        return queue == true
    }

    /// A stream closed with `bytes` still queued: they will never be sent.
    mutating func dropped(_ bytes: Int) {
        queuedBytes -= bytes
    }

    // MARK: Windows

    /// WINDOW_UPDATE on stream 0.
    /// - Throws: FLOW_CONTROL_ERROR past 2^31-1 (§6.9.1).
    mutating func connectionWindowUpdate(_ increment: Int) throws(HTTP2ProtocolError) {
        guard connectionWindow.increase(by: increment) else {
            throw .connection(.flowControlError, "connection window exceeds 2^31-1 (RFC 9113 §6.9.1)")
        }
    }

    /// WINDOW_UPDATE on an open stream.
    /// - Throws: a FLOW_CONTROL_ERROR stream error past 2^31-1 (§6.9.1).
    mutating func streamWindowUpdate(_ increment: Int, streamID: UInt32, in streams: inout HTTP2StreamTable) throws(HTTP2ProtocolError) {
        let grew = streams.modify(streamID) { $0.outbound.sendWindow.increase(by: increment) }
        guard grew != false else {
            throw .stream(streamID, .flowControlError, "stream window exceeds 2^31-1 (RFC 9113 §6.9.1)")
        }
        enqueueIfSendable(streamID, in: &streams)
    }

    /// The peer changed SETTINGS_INITIAL_WINDOW_SIZE by `delta`: every open stream's window
    /// moves by it, and may go negative (§6.9.2). One walk over the table in place, no copy
    /// of the ids; a peer's SETTINGS frames are charged to its glitch budget, which bounds
    /// how often it can make us walk.
    /// - Throws: FLOW_CONTROL_ERROR when a window would pass 2^31-1.
    mutating func initialWindowSizeChanged(by delta: Int, in streams: inout HTTP2StreamTable) throws(HTTP2ProtocolError) {
        guard delta != 0 else { return }
        var overflowing: UInt32?
        streams.modifyEach { id, stream in
            guard stream.outbound.sendWindow.increase(by: delta) else {
                overflowing = id
                return false
            }
            if delta > 0, !stream.outbound.isQueued, stream.outbound.isSendable {
                stream.outbound.isQueued = true
                ready.push(id)
            }
            return true
        }
        if let id = overflowing {
            throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE makes stream \(id)'s window exceed 2^31-1 (RFC 9113 §6.9.2)")
        }
    }

    // MARK: Writing

    /// Pauses or resumes producing DATA.
    /// - Returns: true when resuming, so the caller runs a pass.
    mutating func setPaused(_ paused: Bool) -> Bool {
        isPaused = paused
        return !paused
    }

    /// Starts a pass over the streams ready now.
    mutating func beginPass() {
        turns = isPaused ? 0 : ready.count
    }

    /// The next frame of this pass, nil when the pass is over. The stream's queue, its
    /// window and the connection window are charged; a stream with more to send takes its
    /// place at the back of the line.
    mutating func nextWrite(in streams: inout HTTP2StreamTable, maxFrameSize: Int) -> Write? {
        while turns > 0, let streamID = ready.pop() {
            turns -= 1
            let connectionWindow = connectionWindow.size
            guard let turn = streams.modify(streamID, { stream in
                HTTP2OutboundScheduler.take(from: &stream.outbound, connectionWindow: connectionWindow, maxFrameSize: maxFrameSize)
            }) else { continue }
            switch turn {
            case .waitForConnectionCredit:
                // Keeps its place in line until the connection window opens; nothing else
                // can send either.
                ready.pushFront(streamID)
                turns = 0
                return nil
            case .waitForStreamCredit:
                continue  // a WINDOW_UPDATE queues it again
            case .write(let step, let endsStream, let becameWritable, let requeued):
                if case .data(let payload, _) = step {
                    self.connectionWindow.consume(payload.readableBytes)
                    queuedBytes -= payload.readableBytes
                }
                if requeued {
                    ready.push(streamID)
                    turns += 1
                }
                if case .none = step, !becameWritable { continue }
                return Write(streamID: streamID, step: step, becameWritable: becameWritable, endsStream: endsStream)
            }
        }
        return nil
    }

    /// What one turn takes from a stream.
    private enum Turn {
        /// A write; `requeued` when the stream has more it may send and went back in line.
        case write(Step?, endsStream: Bool, becameWritable: Bool, requeued: Bool)
        case waitForConnectionCredit
        case waitForStreamCredit
    }

    /// Takes the next frame off a stream's queue, changing the queue in place, and puts the
    /// stream back in line when it has more it may send.
    private static func take(from outbound: inout HTTP2StreamOutbound, connectionWindow: Int, maxFrameSize: Int) -> Turn {
        outbound.isQueued = false
        var step: Step?
        if let first = outbound.pendingData.first {
            let allowed = min(outbound.sendWindow.size, connectionWindow, maxFrameSize)
            if allowed <= 0 {
                if connectionWindow <= 0 && outbound.sendWindow.size > 0 {
                    outbound.isQueued = true
                    return .waitForConnectionCredit
                }
                return .waitForStreamCredit
            }
            var chunk = first
            let length = min(allowed, chunk.readableBytes)
            let payload = chunk.readSlice(length: length)!
            if chunk.readableBytes == 0 {
                outbound.pendingData.removeFirst()
            } else {
                outbound.pendingData.replaceFirst(chunk)
            }
            outbound.pendingBytes -= length
            outbound.sendWindow.consume(length)
            let ended = outbound.pendingData.isEmpty && outbound.pendingEnd && outbound.pendingTrailers == nil
            step = .data(payload, endStream: ended)
        } else if let trailers = outbound.pendingTrailers {
            outbound.pendingTrailers = nil
            step = .trailers(trailers)
        } else if outbound.pendingEnd {
            step = .end
        }
        var becameWritable = false
        if let threshold = outbound.writableThreshold, outbound.pendingBytes <= threshold {
            outbound.writableThreshold = nil
            becameWritable = true
        }
        let endsStream: Bool
        switch step {
        case .data(_, endStream: true), .trailers, .end: endsStream = true
        case .data(_, endStream: false), nil: endsStream = false
        }
        if endsStream { outbound.pendingEnd = false }
        // Back in line at once when there is more it may send (one table lookup per turn).
        let requeued = !endsStream && outbound.isSendable
        if requeued { outbound.isQueued = true }
        return .write(step, endsStream: endsStream, becameWritable: becameWritable, requeued: requeued)
    }
}
