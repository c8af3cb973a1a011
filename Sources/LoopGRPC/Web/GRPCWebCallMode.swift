import Loop
import LoopHTTP2

/// What makes a server call gRPC-Web (PROTOCOL-WEB.md) rather than native gRPC: the
/// response's content type mirrors the request's, the CORS fields for its `Origin` ride on the
/// head, the status and trailing metadata travel as the body's last frame (flag 0x80) instead
/// of HTTP/2 trailers, and in text mode every body byte is base64 both ways. The call is
/// otherwise the same: same router, deadlines, interceptors, limits and flow control, over
/// HTTP/2 or HTTP/1.1 alike.
struct GRPCWebCallMode {
    let contentType: GRPCWebContentType
    /// CORS fields for the response (empty without an allowed `Origin`).
    let corsHeaders: [HPACKHeader]
    private var textDecoder: GRPCWebTextDecoder?

    init(contentType: GRPCWebContentType, corsHeaders: [HPACKHeader]) {
        self.contentType = contentType
        self.corsHeaders = corsHeaders
        self.textDecoder = contentType.isText ? GRPCWebTextDecoder() : nil
    }

    /// The response head: gRPC's with the content type replaced and the CORS fields added.
    func head(_ headers: [HPACKHeader]) -> [HPACKHeader] {
        var head = headers.map { $0.name == "content-type" ? HPACKHeader("content-type", contentType.responseContentType) : $0 }
        head.append(contentsOf: corsHeaders)
        return head
    }

    /// A body piece as it goes on the wire (base64 in text mode).
    func body(_ bytes: ByteBuffer) -> ByteBuffer {
        contentType.isText ? GRPCWebTextEncoder.encode(bytes) : bytes
    }

    /// The trailer frame for `trailers` (the fields HTTP/2 trailers would carry), as it goes on
    /// the wire.
    func trailerFrame(_ trailers: [HPACKHeader]) -> ByteBuffer {
        body(GRPCWebTrailers.frame(fields: trailers))
    }

    /// Request body bytes as gRPC frames (decoded from base64 in text mode).
    mutating func decode(_ data: ByteBuffer, endStream: Bool) throws(GRPCStatus) -> ByteBuffer {
        guard var decoder = textDecoder else { return data }
        let decoded = try decoder.decode(data)
        if endStream { try decoder.finish() }
        textDecoder = decoder
        return decoded
    }

    /// A whole response for a call refused before any handler ran: the head and the trailer
    /// frame with `status`.
    static func rejection(_ status: GRPCStatus, contentType: GRPCWebContentType, corsHeaders: [HPACKHeader]) -> (head: [HPACKHeader], body: ByteBuffer) {
        let mode = GRPCWebCallMode(contentType: contentType, corsHeaders: corsHeaders)
        var head = [HPACKHeader(":status", "200"), HPACKHeader("content-type", contentType.responseContentType)]
        head.append(contentsOf: corsHeaders)
        return (head, mode.trailerFrame(GRPCResponseHead.trailers(for: status, adding: GRPCMetadata())))
    }
}
