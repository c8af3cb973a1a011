import Loop

/// The stream-end rule (docs/architecture.md): what happens when one side of a stream ends
/// before the other, on either role, and when the peer half-closes the whole socket.
extension HTTP2Connection {
    mutating func remoteEnded(_ streamID: UInt32) {
        // The receiving transition already ended the remote side; both ended: finished.
        guard let bothEnded = streams.modify(streamID, { $0.state == .closed }) else { return }
        if bothEnded {
            finishStream(streamID)
        } else if role == .client {
            // The stream-end rule (docs/architecture.md), client side: the response is
            // complete while the request is still open. Nothing the client still sends can
            // change it, so end our side now (as grpc-go does) and release the stream: a
            // server that ends with trailers and no RST_STREAM (RFC 9113 allows that) must not
            // hold a stream slot until the application happens to finish its request.
            resetAfterCompleteExchange(streamID)
        }
    }

    /// END_STREAM left on our side.
    mutating func localEnded(_ streamID: UInt32) {
        guard let state = streams.modify(streamID, { stream -> HTTP2StreamState in
            stream.state = stream.state.sendingEndStream()
            return stream.state
        }) else { return }
        if state == .closed {
            finishStream(streamID)
        } else if role == .server {
            // The stream-end rule (docs/architecture.md): the response is complete before
            // the request; the client is told to stop uploading (RFC 9113 §8.1), at once or
            // after a grace period for it to end its side first.
            switch configuration.unfinishedRequestPolicy {
            case .resetImmediately:
                resetAfterCompleteExchange(streamID)
            case .resetAfterGracePeriod:
                streams.modify(streamID) { $0.awaitsPeerEnd = true }
                resetGrace.add(streamID)
                if resetGrace.needsCompaction {
                    let table = streams
                    resetGrace.compact { table[$0]?.awaitsPeerEnd == true }
                }
            case .waitForClient:
                break
            }
        }
    }

    /// True while some stream waits out its grace period: the handler then calls
    /// ``resetGracePeriodElapsed()`` once per period.
    public var hasStreamsAwaitingPeerEnd: Bool { !resetGrace.isEmpty }

    /// One grace period passed (``HTTP2Configuration/UnfinishedRequestPolicy/resetAfterGracePeriod(_:)``):
    /// streams whose client has not ended its side for a whole period get RST_STREAM(NO_ERROR).
    public mutating func resetGracePeriodElapsed() {
        for id in resetGrace.tick() where streams.modify(id, { $0.awaitsPeerEnd }) == true {
            resetAfterCompleteExchange(id)
        }
    }

    /// RST_STREAM(NO_ERROR) for a stream whose response is complete while the other side
    /// is still open, and the stream released.
    mutating func resetAfterCompleteExchange(_ streamID: UInt32) {
        HTTP2FrameEncoder.writeRSTStream(streamID: streamID, code: .noError, into: &output.control)
        counters.resetSent(.noError)
        recentlyReset.insert(streamID)
        finishStream(streamID)
    }

    // MARK: The peer half-closes the socket

    /// The peer shut down its sending side (a TCP half-close, read end-of-stream) while its
    /// reading side stays open: nothing more can arrive. Responses to requests the peer
    /// completed still go out; streams still waiting for the peer can never finish and are
    /// reset (CANCEL, reported as a reset by the peer); no new stream can come, so the
    /// connection drains and closes after a GOAWAY(NO_ERROR) once the last stream is done.
    public mutating func peerClosedInput() {
        guard state != .closed, !peerInputClosed else { return }
        peerInputClosed = true
        guard state != .handshaking else {
            fail(.connection(.noError, "the peer closed its side before its SETTINGS"))
            return
        }
        for id in streams.ids {
            switch streams.modify(id, { ($0.state.isRemoteOpen, $0.awaitsPeerEnd) }) {
            case (true, true)?:
                // Its response is complete (the stream-end rule's grace): simply done.
                resetAfterCompleteExchange(id)
            case (true, false)?:
                HTTP2FrameEncoder.writeRSTStream(streamID: id, code: .cancel, into: &output.control)
                counters.resetSent(.cancel)
                recentlyReset.insert(id)
                closeStream(id)
                events.append(.reset(streamID: id, .cancel))
                events.append(.closed(streamID: id))
            default:
                break
            }
        }
        if shutdown.sentLastStreamID == nil {
            shutdown.sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: "", into: &output.control)
        }
        state = .draining
        closeIfDrained()
        failIfCreditCannotCome()
    }

    /// After the peer's half-close: DATA that a full pass of the scheduler left queued while
    /// output is not paused waits for flow-control credit, and a peer that can send nothing
    /// can send no WINDOW_UPDATE: it would wait forever (holding its memory until the
    /// write-stall timeout). The connection ends instead, with GOAWAY(CANCEL).
    mutating func failIfCreditCannotCome() {
        guard peerInputClosed, state != .closed, outbound.queuedBytes > 0, !outbound.isPaused else { return }
        fail(.connection(.cancel, "the peer closed its side while \(outbound.queuedBytes) bytes waited for flow-control credit"))
    }
}
