import LoopHTTP2

/// A response's head and trailers as PROTOCOL-HTTP2.md ("Responses") defines them, both
/// ways: the server builds them (`:status`, content-type, grpc-encoding, grpc-status,
/// grpc-message, metadata, trailers-only responses), the client parses them into metadata
/// and a final status. Also the two mappings a client needs when a response has no
/// grpc-status: HTTP status → gRPC status (http-grpc-status-mapping.md) and RST_STREAM
/// code → gRPC status (PROTOCOL-HTTP2.md "Errors"). I/O-free: header fields in, header
/// fields or a status out. The request side is ``GRPCRequestHead``.
///
/// ```swift
/// // Client: a trailers-only answer.
/// let head = try GRPCResponseHead(parsing: headers, endStream: true)   // nil for a 1xx head
/// head?.trailersOnlyStatus                                             // GRPCStatus(.notFound, "...")
/// // Server: an OK response's trailers.
/// GRPCResponseHead.trailers(for: .ok, adding: GRPCMetadata())          // [grpc-status: 0]
/// ```
struct GRPCResponseHead {
    /// The response's `grpc-encoding` (nil: identity).
    var compression: GRPCCompression?
    /// The head's user metadata (reserved fields left out, `-bin` values decoded).
    var metadata = GRPCMetadata()
    /// The call's status when the head ended the stream (a trailers-only response); nil when
    /// messages and trailers follow.
    var trailersOnlyStatus: GRPCStatus?

    // MARK: Parsing (client)

    /// Parses a response head. Returns nil for an informational (1xx) head, which the
    /// client skips while waiting for the real one.
    /// - Throws: the status the call ends with when the head is not a usable gRPC response:
    ///   an HTTP error without grpc-status (mapped by ``code(httpStatus:)``), a content type
    ///   other than application/grpc (UNKNOWN), an encoding this client cannot decode (INTERNAL).
    init?(parsing headers: [HPACKHeader], endStream: Bool) throws(GRPCStatus) {
        var httpStatus = 0
        var contentType: String?
        var encoding: String?
        var grpcStatus: String?
        var grpcMessage: String?
        for header in headers {
            switch header.name {
            case ":status": httpStatus = Int(header.value) ?? 0
            case "content-type": contentType = header.value
            case "grpc-encoding": encoding = header.value
            case "grpc-status": grpcStatus = header.value
            case "grpc-message": grpcMessage = header.value
            default: break
            }
        }
        if httpStatus >= 100 && httpStatus < 200 && !endStream { return nil }
        let metadata = GRPCMetadata(headers: headers)
        // With a grpc-status the server spoke gRPC whatever the HTTP status says: that status wins.
        if grpcStatus == nil {
            guard httpStatus == 200 else { throw GRPCStatus.mapping(httpStatus: httpStatus) }
            guard let contentType, contentType.hasPrefix("application/grpc") else {
                throw GRPCStatus(.unknown, "the response's content-type \(contentType.map { "\"\($0)\"" } ?? "(none)") is not gRPC")
            }
        }
        if let encoding, encoding != "identity" {
            guard let compression = GRPCCompression(headerValue: encoding) else {
                throw GRPCStatus(.internal, "the server used grpc-encoding \"\(encoding)\", which this client does not support")
            }
            self.compression = compression
        }
        self.metadata = metadata
        if endStream {
            trailersOnlyStatus = Self.status(grpcStatus: grpcStatus, grpcMessage: grpcMessage, httpStatus: httpStatus, metadata: metadata)
        }
    }

    /// The final status carried by trailers (all their user metadata goes with it); INTERNAL
    /// when they have no grpc-status.
    static func status(parsingTrailers headers: [HPACKHeader]) -> GRPCStatus {
        var grpcStatus: String?
        var grpcMessage: String?
        for header in headers {
            if header.name == "grpc-status" { grpcStatus = header.value } else if header.name == "grpc-message" { grpcMessage = header.value }
        }
        return status(grpcStatus: grpcStatus, grpcMessage: grpcMessage, httpStatus: 200, metadata: GRPCMetadata(headers: headers))
    }

    private static func status(grpcStatus: String?, grpcMessage: String?, httpStatus: Int, metadata: GRPCMetadata) -> GRPCStatus {
        guard let grpcStatus else {
            var mapped = GRPCStatus.mapping(httpStatus: httpStatus)
            if httpStatus == 200 { mapped = GRPCStatus(.internal, "the response ended without grpc-status") }
            mapped.trailingMetadata = metadata
            return mapped
        }
        return GRPCStatus(GRPCStatus.code(parsing: grpcStatus), grpcMessage.map(GRPCStatusMessage.decode) ?? "", trailingMetadata: metadata)
    }

    /// The code for a response that ended without grpc-status, from its HTTP status
    /// (http-grpc-status-mapping.md).
    static func code(httpStatus: Int) -> GRPCStatus.Code {
        switch httpStatus {
        case 400: return .internal
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404: return .unimplemented
        case 429, 502, 503, 504: return .unavailable
        default: return .unknown
        }
    }

    /// The status of a call the server reset before its trailers arrived (PROTOCOL-HTTP2.md
    /// "Errors": the HTTP/2 code → gRPC status). After complete trailers the client keeps
    /// their status instead (the stream-end rule, docs/architecture.md), so this is not asked then.
    static func status(resetBy code: HTTP2ErrorCode) -> GRPCStatus {
        let mapped: GRPCStatus.Code
        switch code {
        case .cancel: mapped = .cancelled
        case .refusedStream: mapped = .unavailable
        case .enhanceYourCalm: mapped = .resourceExhausted
        case .inadequateSecurity: mapped = .permissionDenied
        default: mapped = .internal
        }
        return GRPCStatus(mapped, "the server reset the stream with \(code)")
    }

    // MARK: Building (server)

    /// The response head: `:status` 200, content type, the encodings, then `metadata` and,
    /// for a trailers-only response, `trailers`. Without metadata or trailers it is one of
    /// three shared arrays (nothing is allocated per call).
    static func headers(compression: GRPCCompression?, metadata: GRPCMetadata, trailers: [HPACKHeader]? = nil) -> [HPACKHeader] {
        let base = compression == nil ? plainHead : compression == .gzip ? gzipHead : deflateHead
        if metadata.isEmpty, trailers == nil { return base }
        var head = base
        metadata.appendHeaders(to: &head)
        if let trailers { head.append(contentsOf: trailers) }
        return head
    }

    /// The trailers ending a call with `status`: grpc-status, grpc-message (percent-encoded)
    /// and `metadata` merged with the status's own. Metadata that may not be sent (reserved
    /// or malformed keys) turns them into INTERNAL trailers naming the problem.
    static func trailers(for status: GRPCStatus, adding metadata: consuming GRPCMetadata) -> [HPACKHeader] {
        // Consumed, not copied: the caller's value is merged into in place.
        metadata.merge(status.trailingMetadata)
        if !metadata.isEmpty, let problem = problem(in: metadata) { return problemTrailers(problem) }
        if status.code == .ok, status.message.isEmpty, metadata.isEmpty { return okTrailers }
        var list = [HPACKHeader("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty { list.append(HPACKHeader("grpc-message", GRPCStatusMessage.encode(status.message))) }
        metadata.appendHeaders(to: &list)
        return list
    }

    /// The status a client reads from `trailers(for: status, adding: metadata)`: the status
    /// with the merged trailing metadata, or the INTERNAL that replaces metadata which may not
    /// be sent. Kept beside `trailers(for:adding:)` so the two cannot disagree.
    static func sentStatus(for status: GRPCStatus, adding metadata: consuming GRPCMetadata) -> GRPCStatus {
        metadata.merge(status.trailingMetadata)
        if !metadata.isEmpty, let problem = problem(in: metadata) { return GRPCStatus(.internal, problem.message) }
        return GRPCStatus(status.code, status.message, trailingMetadata: metadata)
    }

    /// INTERNAL trailers for metadata the handler supplied that cannot go on the wire.
    static func problemTrailers(_ problem: GRPCStatus) -> [HPACKHeader] {
        [HPACKHeader("grpc-status", String(GRPCStatus.Code.internal.rawValue)),
         HPACKHeader("grpc-message", GRPCStatusMessage.encode(problem.message))]
    }

    /// Why `metadata` cannot be sent (a reserved or malformed key or value), or nil.
    static func problem(in metadata: GRPCMetadata) -> GRPCStatus? {
        do {
            try metadata.validateForSending()
            return nil
        } catch {
            return error
        }
    }

    /// The trailers-only answer to a call refused before any handler runs (bad method,
    /// content type, encoding or timeout; unknown method). An UNIMPLEMENTED answer lists
    /// the encodings the server accepts, as compression.md asks for an unsupported encoding.
    static func rejection(httpStatus: Int, _ status: GRPCStatus) -> [HPACKHeader] {
        var headers = [HPACKHeader(":status", String(httpStatus)), HPACKHeader("content-type", "application/grpc"),
                       HPACKHeader("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty { headers.append(HPACKHeader("grpc-message", GRPCStatusMessage.encode(status.message))) }
        if status.code == .unimplemented { headers.append(HPACKHeader("grpc-accept-encoding", GRPCCompression.acceptEncodingHeader)) }
        return headers
    }

    private static let plainHead = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc"),
                                    HPACKHeader("grpc-accept-encoding", GRPCCompression.acceptEncodingHeader)]
    private static let gzipHead = plainHead + [HPACKHeader("grpc-encoding", "gzip")]
    private static let deflateHead = plainHead + [HPACKHeader("grpc-encoding", "deflate")]
    private static let okTrailers = [HPACKHeader("grpc-status", "0")]
}
