/// A request's `content-type` as gRPC and gRPC-Web define it, so one check routes a request:
/// native gRPC (`application/grpc`, PROTOCOL-HTTP2.md), binary gRPC-Web
/// (`application/grpc-web`) or text gRPC-Web (`application/grpc-web-text`, the body in
/// base64; PROTOCOL-WEB.md "Content-Type"), each with an optional `+codec` (`+proto`,
/// `+json`, ...) and parameters (`; charset=utf-8`), which are ignored. Anything else is not
/// gRPC and parses to nil.
///
/// The response answers in the request's format and codec (``responseContentType``): a client
/// that sent base64 reads base64. (PROTOCOL-WEB.md also lets a client ask for a text response
/// with `Accept`, which Envoy follows; grpc-web's JavaScript client sends the text type in
/// both headers in text mode and a binary type without `Accept` in binary mode, so mirroring
/// answers it in the mode Envoy would.)
///
/// ```swift
/// let type = GRPCWebContentType(parsing: "application/grpc-web-text+proto")!
/// type.format               // .grpcWebText
/// type.isText               // true: decode the body with GRPCWebTextDecoder
/// type.responseContentType  // "application/grpc-web-text+proto"
/// ```
public struct GRPCWebContentType: Sendable, Equatable, CustomStringConvertible {
    /// The wire format a content type names.
    public enum Format: Sendable, Equatable {
        /// `application/grpc`: native gRPC over HTTP/2, trailers as HTTP/2 trailers.
        case grpc
        /// `application/grpc-web`: gRPC's framing in the body, the trailers as a last frame.
        case grpcWeb
        /// `application/grpc-web-text`: the `grpcWeb` body in base64.
        case grpcWebText
    }

    /// The wire format.
    public var format: Format
    /// The message codec after `+`, lower-cased (`"proto"`, `"json"`); nil when none was
    /// given, which means protobuf.
    public var codec: String?

    /// A content type of `format` with `codec` (nil: none named).
    public init(format: Format, codec: String? = nil) {
        self.format = format
        self.codec = codec
    }

    /// Parses a `content-type` value; nil when it is not a gRPC or gRPC-Web media type.
    /// The type and codec compare without regard to case (RFC 9110 §8.3.1); parameters are
    /// ignored, as grpc-go and Envoy ignore them.
    public init?(parsing value: String) {
        var mediaType = Substring(value)
        if let semicolon = mediaType.firstIndex(of: ";") { mediaType = mediaType[..<semicolon] }
        let lowered = GRPCWebFieldSyntax.trimmed(mediaType).lowercased()
        guard lowered.hasPrefix(Self.grpcPrefix) else { return nil }
        var rest = lowered.dropFirst(Self.grpcPrefix.count)
        if rest.hasPrefix("-web-text") {
            format = .grpcWebText
            rest = rest.dropFirst("-web-text".count)
        } else if rest.hasPrefix("-web") {
            format = .grpcWeb
            rest = rest.dropFirst("-web".count)
        } else {
            format = .grpc
        }
        if rest.isEmpty {
            codec = nil
        } else {
            // "application/grpc-webx" or "application/grpc+" is not ours: only "+" and a token may follow.
            guard rest.first == "+", rest.count > 1, rest.dropFirst().utf8.allSatisfy(GRPCWebFieldSyntax.isTokenByte) else { return nil }
            codec = String(rest.dropFirst())
        }
    }

    /// Whether the request is gRPC-Web (binary or text), not native gRPC.
    public var isGRPCWeb: Bool { format != .grpc }

    /// Whether the body is base64 (`application/grpc-web-text`): requests are decoded with
    /// ``GRPCWebTextDecoder``, responses encoded with ``GRPCWebTextEncoder``.
    public var isText: Bool { format == .grpcWebText }

    /// The content type to answer with: the request's format and codec, without parameters.
    public var responseContentType: String { description }

    /// The media type: `application/grpc`, `-web` or `-web-text`, then `+codec` if any.
    public var description: String {
        let base: String
        switch format {
        case .grpc: base = "application/grpc"
        case .grpcWeb: base = "application/grpc-web"
        case .grpcWebText: base = "application/grpc-web-text"
        }
        guard let codec else { return base }
        return base + "+" + codec
    }

    private static let grpcPrefix = "application/grpc"
}

