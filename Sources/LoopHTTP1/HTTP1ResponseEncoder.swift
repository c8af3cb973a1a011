import Loop

/// Writes HTTP/1.1 responses (RFC 9112), I/O-free: bytes out for a head, body pieces and the
/// end. The framing follows from what is known when the head is written: a known length is
/// sent as Content-Length; otherwise an HTTP/1.1 client gets a chunked body (with trailers
/// if any) and an HTTP/1.0 client a body delimited by closing the connection. Responses to
/// HEAD, 1xx, 204 and 304 carry no body (RFC 9112 §6.3).
///
/// ```swift
/// var encoder = HTTP1ResponseEncoder(version: .http1_1, requestMethod: "GET")
/// var out = ByteBuffer()
/// encoder.writeHead(HTTP1ResponseHead(status: 200), contentLength: 5, keepAlive: true, into: &out)
/// encoder.writeBody(ByteBuffer(string: "hello"), into: &out)
/// encoder.writeEnd(into: &out)
/// ```
public struct HTTP1ResponseEncoder: Sendable {
    public let version: HTTP1Version
    /// The response carries no body whatever is written (HEAD, 1xx, 204, 304).
    public private(set) var isBodiless: Bool
    public private(set) var framing: Framing = .none

    public enum Framing: Sendable, Equatable {
        case none
        case length(remaining: Int)
        case chunked
        /// The body ends when the connection closes (HTTP/1.0 without a known length).
        case untilClose
    }

    public init(version: HTTP1Version, requestMethod: String) {
        self.version = version
        self.isBodiless = requestMethod == "HEAD"
    }

    /// Writes "100 Continue" (RFC 9110 §15.2.1), for a request that expects it.
    public static func writeContinue(into out: inout ByteBuffer) {
        out.writeString("HTTP/1.1 100 Continue\r\n\r\n")
    }

    /// Writes the status line and fields. `contentLength`: the body's size if known (nil:
    /// chunked for HTTP/1.1). Adds Connection: close when `keepAlive` is false (and
    /// keep-alive for an HTTP/1.0 client that keeps the connection).
    /// - Returns: whether the connection can stay open after this response.
    @discardableResult
    public mutating func writeHead(_ head: HTTP1ResponseHead, contentLength: Int?, keepAlive: Bool,
                                   into out: inout ByteBuffer) -> Bool {
        let status = head.status
        if (100..<200).contains(status) || status == 204 || status == 304 { isBodiless = true }
        // One allocation for the whole head: the status line, the fields, the framing fields.
        var size = 80
        for field in head.fields { size += field.name.utf8.count + field.value.utf8.count + 4 }
        out.reserveCapacity(minimumWritableBytes: size)
        var keepAlive = keepAlive
        if status == 200 {
            // The common status line in one write.
            out.writeString(version == .http1_1 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.0 200 OK\r\n")
        } else {
            out.writeString(version == .http1_1 ? "HTTP/1.1 " : "HTTP/1.0 ")
            out.writeDecimal(status)
            out.writeInteger(UInt8(ascii: " "))
            out.writeString(Self.reasonPhrase(status))
            out.writeString("\r\n")
        }
        out.writeFieldLines(head.fields)
        if let contentLength {
            if !(status == 204 || (100..<200).contains(status)) {
                out.writeString("content-length: ")
                out.writeDecimal(contentLength)
                out.writeString("\r\n")
            }
            framing = isBodiless ? .none : .length(remaining: contentLength)
        } else if isBodiless {
            framing = .none
        } else if version == .http1_1 {
            out.writeString("transfer-encoding: chunked\r\n")
            framing = .chunked
        } else {
            framing = .untilClose
            keepAlive = false
        }
        if !keepAlive {
            out.writeString("connection: close\r\n")
        } else if version == .http1_0 {
            out.writeString("connection: keep-alive\r\n")
        }
        out.writeString("\r\n")
        return keepAlive
    }

    /// Writes a piece of the body (nothing for a bodiless response).
    /// - Precondition: a Content-Length body gets no more than its length.
    public mutating func writeBody(_ bytes: ByteBuffer, into out: inout ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        switch framing {
        case .none:
            return
        case .length(let remaining):
            precondition(bytes.readableBytes <= remaining, "a body longer than its Content-Length")
            framing = .length(remaining: remaining - bytes.readableBytes)
            out.writeImmutableBuffer(bytes)
        case .chunked:
            out.writeChunk(bytes)
        case .untilClose:
            out.writeImmutableBuffer(bytes)
        }
    }

    /// Ends the body: the last chunk and `trailers` for a chunked body (trailers are dropped
    /// otherwise: HTTP/1.1 has nowhere else to put them).
    public mutating func writeEnd(trailers: HTTP1Fields = HTTP1Fields(), into out: inout ByteBuffer) {
        if case .chunked = framing { out.writeLastChunk(trailers: trailers) }
        framing = .none
    }

    /// The reason phrase of `status` (RFC 9110 §15); clients ignore it, but people read it.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 499: return "Client Closed Request"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}
