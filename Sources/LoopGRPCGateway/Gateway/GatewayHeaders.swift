import LoopGRPC
import LoopHTTP2

/// HTTP header fields to call metadata and back, as grpc-gateway maps them, I/O-free:
/// `authorization`, `x-request-id` (``GatewayConfiguration/forwardedHeaders``) and
/// `grpc-metadata-NAME` go to the call; the method's initial metadata comes back as
/// `grpc-metadata-NAME` fields and its trailing metadata as `grpc-trailer-NAME` fields.
enum GatewayHeaders {
    static let metadataPrefix = "grpc-metadata-"
    static let trailerPrefix = "grpc-trailer-"

    /// The call's metadata from the request's fields (lower-case names).
    static func metadata(from headers: [HPACKHeader], forwarding names: [String]) -> GRPCMetadata {
        var metadata = GRPCMetadata()
        for header in headers {
            if header.name.hasPrefix(metadataPrefix) {
                let name = String(header.name.dropFirst(metadataPrefix.count))
                if !name.isEmpty, !GRPCMetadata.isReserved(name) { metadata.add(name, header.value) }
            } else if names.contains(header.name) {
                metadata.add(header.name, header.value)
            }
        }
        return metadata
    }

    /// The deadline a request asks for with `grpc-timeout` (gRPC's format), if valid.
    static func timeout(from headers: [HPACKHeader]) -> Duration? {
        headers.first { $0.name == "grpc-timeout" }.flatMap { GRPCTimeout.parse($0.value) }
    }

    /// The response fields carrying a call's metadata.
    static func responseFields(initial: GRPCMetadata, trailing: GRPCMetadata) -> [HPACKHeader] {
        // Binary values go base64, as they do on HTTP/2 (`appendHeaders`).
        var initialFields: [HPACKHeader] = []
        initial.appendHeaders(to: &initialFields)
        var trailingFields: [HPACKHeader] = []
        trailing.appendHeaders(to: &trailingFields)
        return initialFields.map { HPACKHeader(metadataPrefix + $0.name, $0.value) }
            + trailingFields.map { HPACKHeader(trailerPrefix + $0.name, $0.value) }
    }
}
