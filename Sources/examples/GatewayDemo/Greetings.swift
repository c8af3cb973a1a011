import LoopGRPC

/// The demo's `loop.demo.v1.Greetings` (Protos/loop/demo/v1/greetings.proto). The Go
/// control stack's cmux_server answers the same calls the same way, so the two can be
/// compared call for call.
struct Greetings: Loop_Demo_V1_GreetingsProvider {
    func sayHello(request: Loop_Demo_V1_HelloRequest, context: GRPCServerContext) async throws -> Loop_Demo_V1_HelloReply {
        try Self.validate(name: request.name)
        guard request.name != "forbidden" else { throw GRPCStatus(.permissionDenied, "forbidden may not be greeted") }
        let repeatCount = request.options.repeat
        guard (0...10).contains(repeatCount) else { throw GRPCStatus(.invalidArgument, "repeat must be between 0 and 10") }
        let once = "\(Self.greeting(request.language)), \(request.name)!"
        var message = Array(repeating: once, count: max(1, Int(repeatCount))).joined(separator: " ")
        if request.options.shout { message = message.uppercased() }
        var reply = Loop_Demo_V1_HelloReply()
        reply.message = message
        reply.tags = request.tags
        reply.language = request.language
        return reply
    }

    func streamHellos(request: Loop_Demo_V1_StreamHellosRequest, response: GRPCResponseWriter<Loop_Demo_V1_HelloReply>,
                      context: GRPCServerContext) async throws {
        guard (1...1000).contains(request.count) else { throw GRPCStatus(.invalidArgument, "count must be between 1 and 1000") }
        guard (0...1000).contains(request.intervalMs) else { throw GRPCStatus(.invalidArgument, "interval_ms must be between 0 and 1000") }
        try Self.validate(name: request.name)
        for sequence in 1...Int(request.count) {
            if sequence > 1, request.intervalMs > 0 { try await Task.sleep(for: .milliseconds(Int(request.intervalMs))) }
            var reply = Loop_Demo_V1_HelloReply()
            reply.message = "Hello, \(request.name)! #\(sequence)"
            reply.sequence = Int64(sequence)
            try await response.send(reply)
        }
    }

    private static func validate(name: String) throws {
        guard !name.isEmpty else { throw GRPCStatus(.invalidArgument, "name must not be empty") }
    }

    private static func greeting(_ language: Loop_Demo_V1_Language) -> String {
        switch language {
        case .french: return "Bonjour"
        case .german: return "Hallo"
        default: return "Hello"
        }
    }
}
