import LoopHTTP2

/// A request head checked against PROTOCOL-HTTP2.md: method, content type, encoding and
/// timeout. I/O-free: header fields in, the call's parameters or the exact refusal out.
struct GRPCRequestHead: Equatable {
    var path = ""
    /// The request's `grpc-encoding` (nil: identity).
    var requestCompression: GRPCCompression?
    /// The encoding to answer with (nil: identity).
    var responseCompression: GRPCCompression?
    var timeout: Duration?
    var userAgent: String?
    /// Whether any field is user metadata (so none is collected when there is none).
    var hasMetadata = false
    /// A gRPC-Web call's content type (nil: native gRPC).
    var web: GRPCWebContentType?
    /// The `origin` field (for gRPC-Web's CORS headers).
    var origin: String?

    /// A head answered without a handler: the HTTP status and gRPC status of the
    /// trailers-only response.
    struct Rejection: Error, Equatable {
        var httpStatus: Int
        var status: GRPCStatus
    }

    init(validating headers: [HPACKHeader], acceptedEncodings: [GRPCCompression],
         compressResponsesLikeRequests: Bool) throws(Rejection) {
        var method = ""
        var contentType: String?
        var encoding: String?
        var acceptEncoding: String?
        var timeoutValue: String?
        // One pass, each name told apart by its first byte before comparing (no hashing).
        for header in headers {
            let name = header.name.utf8
            if name.first == UInt8(ascii: ":") {
                if header.name == ":method" { method = header.value } else if header.name == ":path" { path = header.value }
            } else if name.first == UInt8(ascii: "c"), header.name == "content-type" {
                contentType = header.value
            } else if name.first == UInt8(ascii: "g"), name.count > 5 {
                switch header.name {
                case "grpc-encoding": encoding = header.value
                case "grpc-accept-encoding": acceptEncoding = header.value
                case "grpc-timeout": timeoutValue = header.value
                default: if !GRPCMetadata.isReserved(header.name) { hasMetadata = true }
                }
            } else if header.name == "user-agent" {
                userAgent = header.value
            } else if header.name == "origin" {
                origin = header.value
                hasMetadata = true
            } else if !GRPCMetadata.isReserved(header.name) {
                hasMetadata = true
            }
        }

        guard method == "POST" else {
            throw Rejection(httpStatus: 405, status: GRPCStatus(.internal, "gRPC requires POST, got \(method.isEmpty ? "no method" : method)"))
        }
        // "If Content-Type does not begin with application/grpc, gRPC servers SHOULD respond
        // with HTTP status of 415."
        guard let contentType, contentType.hasPrefix("application/grpc") else {
            throw Rejection(httpStatus: 415, status: GRPCStatus(.internal, "invalid gRPC content-type \(contentType.map { "\"\($0)\"" } ?? "(none)")"))
        }
        if contentType.utf8.count >= 20, contentType.hasPrefix("application/grpc-web") {
            // gRPC-Web (PROTOCOL-WEB.md): the same calls, trailers in the body, maybe base64.
            guard let type = GRPCWebContentType(parsing: contentType), type.isGRPCWeb else {
                throw Rejection(httpStatus: 415, status: GRPCStatus(.internal, "invalid gRPC-Web content-type \"\(contentType)\""))
            }
            web = type
        }
        if let encoding, encoding != "identity" {
            guard let supported = GRPCCompression(headerValue: encoding), acceptedEncodings.contains(supported) else {
                throw Rejection(httpStatus: 200, status: GRPCStatus(.unimplemented, "grpc-encoding \"\(encoding)\" is not supported (supported: \(GRPCCompression.acceptEncodingHeader))"))
            }
            requestCompression = supported
            if compressResponsesLikeRequests, supported.isAccepted(by: acceptEncoding) { responseCompression = supported }
        }
        if let timeoutValue {
            guard let duration = GRPCTimeout.parse(timeoutValue) else {
                throw Rejection(httpStatus: 200, status: GRPCStatus(.internal, "malformed grpc-timeout \"\(timeoutValue)\""))
            }
            timeout = duration
        }
    }
}
