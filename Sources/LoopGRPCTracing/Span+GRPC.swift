import Loop
import LoopGRPC
import Tracing

/// The attribute names of OpenTelemetry's RPC and gRPC semantic conventions
/// (opentelemetry.io/docs/specs/semconv/rpc/).
enum GRPCSpanAttribute {
    static let system = "rpc.system"
    static let service = "rpc.service"
    static let method = "rpc.method"
    static let statusCode = "rpc.grpc.status_code"
    static let serverAddress = "server.address"
    static let serverPort = "server.port"
    static let clientAddress = "client.address"
    static let clientPort = "client.port"
    static let networkTransport = "network.transport"
    static let networkType = "network.type"
    static let peerAddress = "network.peer.address"
    static let peerPort = "network.peer.port"
}

/// A method's path, `/package.Service/Method`, in the parts spans are named and described by.
struct GRPCMethodName {
    /// `package.Service/Method`: the span name of the conventions.
    let fullName: String
    /// `package.Service`.
    let service: String
    /// `Method`.
    let method: String

    init(path: String) {
        let trimmed = path.hasPrefix("/") ? path.dropFirst() : Substring(path)
        fullName = String(trimmed)
        if let slash = trimmed.firstIndex(of: "/") {
            service = String(trimmed[..<slash])
            method = String(trimmed[trimmed.index(after: slash)...])
        } else {
            service = ""
            method = String(trimmed)
        }
    }
}

extension Span {
    /// `rpc.system`, `rpc.service` and `rpc.method`.
    func setMethodAttributes(_ name: GRPCMethodName) {
        updateAttributes { attributes in
            attributes[GRPCSpanAttribute.system] = "grpc"
            attributes[GRPCSpanAttribute.service] = name.service
            attributes[GRPCSpanAttribute.method] = name.method
        }
    }

    /// A server span's peer, the client: `client.address` and `client.port`, and the
    /// `network.*` attributes of the connection; nothing for an unknown address.
    func setClientAttributes(_ address: SocketAddress?) {
        guard let address else { return }
        updateAttributes { attributes in
            let type: String
            switch address {
            case .unix:
                attributes[GRPCSpanAttribute.networkTransport] = "unix"
                // A connecting client's socket is usually unnamed: then there is no address.
                guard let path = address.unixDomainSocketPath, !path.isEmpty else { return }
                attributes[GRPCSpanAttribute.peerAddress] = path
                attributes[GRPCSpanAttribute.clientAddress] = path
                return
            case .v4: type = "ipv4"
            case .v6: type = "ipv6"
            }
            let ip = address.ipAddress
            attributes[GRPCSpanAttribute.networkTransport] = "tcp"
            attributes[GRPCSpanAttribute.networkType] = type
            attributes[GRPCSpanAttribute.peerAddress] = ip
            attributes[GRPCSpanAttribute.peerPort] = address.port
            attributes[GRPCSpanAttribute.clientAddress] = ip
            attributes[GRPCSpanAttribute.clientPort] = address.port
        }
    }

    /// Records the call's final status and ends the span: `rpc.grpc.status_code` always; for
    /// any code but OK, the error status with the status's message (its code's name when it
    /// has none) and the status as a recorded error. OK leaves the span status unset, as
    /// OpenTelemetry asks of instrumentation libraries.
    func end(with status: GRPCStatus) {
        attributes[GRPCSpanAttribute.statusCode] = Int(status.code.rawValue)
        if status.code != .ok {
            setStatus(SpanStatus(code: .error, message: status.message.isEmpty ? status.code.description : status.message))
            recordError(status)
        }
        end()
    }
}

extension GRPCStatus {
    /// The status a failure that is not a `GRPCStatus` stands for, as a server would answer it.
    init(endingWith error: any Error) {
        if let status = error as? GRPCStatus {
            self = status
        } else if let convertible = error as? any GRPCStatusConvertible {
            self = convertible.grpcStatus
        } else if error is CancellationError {
            self.init(.cancelled, "the call was cancelled")
        } else {
            self.init(.unknown, "\(error)")
        }
    }
}
