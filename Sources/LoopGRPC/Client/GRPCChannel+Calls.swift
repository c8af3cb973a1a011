import Loop
import LoopHTTP2

/// The four kinds of calls. Each runs inside the channel's interceptors, honours the
/// options' deadline (DEADLINE_EXCEEDED, and RST_STREAM(CANCEL) on the wire) and task
/// cancellation (CANCELLED, same reset), and ends with the status from the trailers; a
/// status other than OK is thrown as `GRPCStatus`.
extension GRPCChannel {
    /// One request, one response.
    ///
    /// ```swift
    /// let response = try await channel.unary(path: "/echo.Echo/Get", request: ByteBuffer(string: "hi"),
    ///                                        serializer: ByteBufferCodec(), deserializer: ByteBufferCodec(),
    ///                                        options: GRPCCallOptions())
    /// ```
    public func unary<S: GRPCSerializer, D: GRPCDeserializer>(
        path: String, request: S.Message, serializer: S, deserializer: D, options: GRPCCallOptions
    ) async throws -> GRPCResponse<D.Message> {
        try await intercepted(path, options) { options in
            try await self.withCall(path, options) { call in
                try await call.sendOnly(request, serializer: serializer)
                return try await Self.singleResponse(call, deserializer)
            }
        }
    }

    /// A stream of requests written by `requests`, one response.
    public func clientStreaming<S: GRPCSerializer, D: GRPCDeserializer>(
        path: String, serializer: S, deserializer: D, options: GRPCCallOptions,
        requests: @escaping @Sendable (GRPCRequestWriter<S.Message>) async throws -> Void
    ) async throws -> GRPCResponse<D.Message> {
        try await intercepted(path, options) { options in
            try await self.withCall(path, options) { call in
                do {
                    try await requests(Self.writer(call, serializer))
                    try await call.finishSending()
                } catch let status as GRPCStatus {
                    // A send refused because the server already ended the call: its status is
                    // the outcome. (The call's state is read on its loop.)
                    guard await onLoop(call.loop, { call.isFinished }) else { throw status }
                }
                return try await Self.singleResponse(call, deserializer)
            }
        }
    }

    /// One request, a stream of responses handed to `body`. The call ends when `body`
    /// returns (cancelled if responses were left unread).
    public func serverStreaming<S: GRPCSerializer, D: GRPCDeserializer, R: Sendable>(
        path: String, request: S.Message, serializer: S, deserializer: D, options: GRPCCallOptions,
        body: @escaping @Sendable (GRPCResponseStream<D.Message>) async throws -> R
    ) async throws -> R {
        try await intercepted(path, options) { options in
            try await self.withCall(path, options) { call in
                try await call.sendOnly(request, serializer: serializer)
                return try await body(Self.responses(call, deserializer))
            }
        }
    }

    /// Requests and responses as independent streams, both handed to `body`. Finish the
    /// requests with `finish()` when done sending; the call ends when `body` returns
    /// (cancelled if still running).
    public func bidirectionalStreaming<S: GRPCSerializer, D: GRPCDeserializer, R: Sendable>(
        path: String, serializer: S, deserializer: D, options: GRPCCallOptions,
        body: @escaping @Sendable (GRPCRequestWriter<S.Message>, GRPCResponseStream<D.Message>) async throws -> R
    ) async throws -> R {
        try await intercepted(path, options) { options in
            try await self.withCall(path, options) { call in
                try await body(Self.writer(call, serializer), Self.responses(call, deserializer))
            }
        }
    }

    // MARK: Building blocks

    private func intercepted<R: Sendable>(
        _ path: String, _ options: GRPCCallOptions, _ call: @escaping @Sendable (GRPCCallOptions) async throws -> R
    ) async throws -> R {
        let interceptors = configuration.interceptors
        if interceptors.isEmpty { return try await call(options) }
        return try await interceptors.run(path: path, options: options, call)
    }

    private static func writer<S: GRPCSerializer>(_ call: GRPCClientCall, _ serializer: S) -> GRPCRequestWriter<S.Message> {
        GRPCRequestWriter(call: call) { call, message in try await call.send(message, serializer: serializer) }
    }

    private static func responses<D: GRPCDeserializer>(_ call: GRPCClientCall, _ deserializer: D) -> GRPCResponseStream<D.Message> {
        GRPCResponseStream(call: call) { try deserializer.deserialize($0) }
    }

    /// Reads the one response message and the OK status of a unary or client-streaming call.
    private static func singleResponse<D: GRPCDeserializer>(_ call: GRPCClientCall, _ deserializer: D) async throws -> GRPCResponse<D.Message> {
        let head = await call.headMetadata()
        guard let bytes = await call.nextMessage() else {
            let status = await call.finalStatus()
            guard status.code == .ok else { throw status }
            throw GRPCStatus(.internal, "the server ended the call with OK but sent no response message", trailingMetadata: status.trailingMetadata)
        }
        if await call.nextMessage() != nil {
            let status = GRPCStatus(.internal, "the server sent more than one response message to a call that takes one")
            await call.cancelFromCaller(status)
            throw status
        }
        let status = await call.finalStatus()
        guard status.code == .ok else { throw status }
        let message: D.Message
        do {
            message = try deserializer.deserialize(bytes)
        } catch {
            throw GRPCStatus(.internal, "could not parse the response message: \(error)")
        }
        return GRPCResponse(message: message, initialMetadata: head ?? GRPCMetadata(), trailingMetadata: status.trailingMetadata)
    }

    /// Opens a call, runs `body` with it, and makes sure it ends: cancelled (RST_STREAM
    /// CANCEL) if `body` throws, returns early, or the task is cancelled. The options'
    /// finish observers hear how it ended, also when it never got a stream.
    private func withCall<R: Sendable>(
        _ path: String, _ options: GRPCCallOptions, _ body: @escaping @Sendable (GRPCClientCall) async throws -> R
    ) async throws -> R {
        let deadline = options.timeout.map { ContinuousClock.now + $0 }
        let call: GRPCClientCall
        do {
            try options.metadata.validateForSending()
            call = try await open(path, options, deadline: deadline)
        } catch {
            options.callFinished(Self.status(endingUnstartedCall: error))
            throw error
        }
        return try await withTaskCancellationHandler {
            do {
                let result = try await body(call)
                await call.cancelFromCaller(GRPCStatus(.cancelled, "the call's body returned before the call ended"))
                if options.hasFinishObservers {
                    let status = await call.finalStatus()
                    options.callFinished(status)
                }
                return result
            } catch {
                // A failure from the call itself carries its status; anything else (the
                // caller's own error) cancels the call.
                let finished = await onLoop(call.loop) { call.isFinished }
                let cancelled = error is CancellationError || Task.isCancelled
                if !finished {
                    await call.cancelFromCaller(GRPCStatus(.cancelled, cancelled ? "the caller's task was cancelled" : "the caller failed: \(error)"))
                }
                if options.hasFinishObservers {
                    // The call's status; when that is OK, the failure the caller gets instead
                    // (a unary response without a message, or one that does not parse).
                    let status = await call.finalStatus()
                    options.callFinished(status.code == .ok && !cancelled ? (error as? GRPCStatus ?? status) : status)
                }
                // Cancellation surfaces as the call's status (CANCELLED), as gRPC users expect.
                if cancelled { throw await call.finalStatus() }
                throw error
            }
        } onCancel: {
            call.loop.execute { UncheckedTransfer(call).value.cancel(GRPCStatus(.cancelled, "the caller's task was cancelled")) }
        }
    }

    /// Starts a call on a connection with a free slot. A connection that turned out to be
    /// going away (its GOAWAY crossed our choice of it) sent nothing of the call, so the call
    /// starts on another one: gRPC's transparent retry, for calls that never left the client.
    private func open(
        _ path: String, _ options: GRPCCallOptions, deadline: ContinuousClock.Instant?
    ) async throws -> GRPCClientCall {
        var attempt = 0
        while true {
            attempt += 1
            let connection = try await acquire(waitForReady: options.waitForReady, deadline: deadline)
            let remaining = deadline.map { $0 - ContinuousClock.now }
            if let remaining, remaining <= .zero {
                release(connection)
                throw GRPCStatus(.deadlineExceeded, "the deadline passed while connecting")
            }
            let call = GRPCClientCall(loop: connection.loop, path: path, requestCompression: options.compression,
                                      maxReceiveMessageSize: options.maxReceiveMessageSize, maxSendMessageSize: options.maxSendMessageSize,
                                      partialMessages: connection.partialMessages)
            let headers = requestHeaders(path: path, options: options, timeout: remaining)
            let methodMetrics = callMetrics?.method(path)
            do {
                try await onLoopThrowing(connection.loop) { [self] in
                    call.onClosed = { [weak self] in self?.release(connection) }
                    do {
                        try connection.open(call, headers: headers)
                        if let methodMetrics { call.observer = GRPCCallObserver(metrics: methodMetrics) }
                    } catch {
                        call.onClosed = nil
                        throw error
                    }
                    if let remaining {
                        call.deadlineTimer = connection.loop.scheduleCallback(in: remaining) {
                            call.cancel(GRPCStatus(.deadlineExceeded, "the deadline of \(remaining) passed"))
                        }
                    }
                }
                return call
            } catch let notOpened as GRPCClientConnection.NotOpened {
                release(connection)
                if attempt >= Self.maxTransparentRetries { throw notOpened.status }
            } catch {
                release(connection)
                throw error
            }
        }
    }

    /// How many connections a call that could not start tries before it fails.
    static let maxTransparentRetries = 5

    /// The status of a call that failed before it had a stream.
    private static func status(endingUnstartedCall error: any Error) -> GRPCStatus {
        if let status = error as? GRPCStatus { return status }
        if error is CancellationError { return GRPCStatus(.cancelled, "the caller's task was cancelled") }
        return GRPCStatus(.unavailable, "\(error)")
    }

    private func requestHeaders(path: String, options: GRPCCallOptions, timeout: Duration?) -> [HPACKHeader] {
        var headers = [
            HPACKHeader(":method", "POST"), HPACKHeader(":scheme", "http"), HPACKHeader(":path", path),
            HPACKHeader(":authority", authority),
            HPACKHeader("content-type", "application/grpc"), HPACKHeader("te", "trailers"),
            HPACKHeader("user-agent", configuration.userAgent),
            HPACKHeader("grpc-accept-encoding", GRPCCompression.acceptEncodingHeader),
        ]
        if let compression = options.compression, compression != .identity {
            headers.append(HPACKHeader("grpc-encoding", compression.rawValue))
        }
        if let timeout { headers.append(HPACKHeader("grpc-timeout", GRPCTimeout.encode(timeout))) }
        options.metadata.appendHeaders(to: &headers)
        return headers
    }
}
