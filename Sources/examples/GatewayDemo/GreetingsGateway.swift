import LoopGRPCGateway

/// The REST routes of loop.demo.v1.Greetings, as greetings.proto's google.api.http options
/// declare them.
enum Loop_Demo_V1_GreetingsGateway {
    static func routes() throws -> GatewayRoutes {
        var routes = GatewayRoutes()
        try routes.add(.get, "/v1/greetings/{name}", method: Loop_Demo_V1_GreetingsMethods.sayHello,
                       request: Loop_Demo_V1_HelloRequest.self, response: Loop_Demo_V1_HelloReply.self)
        try routes.add(.post, "/v1/greetings", body: "*", method: Loop_Demo_V1_GreetingsMethods.sayHello,
                       request: Loop_Demo_V1_HelloRequest.self, response: Loop_Demo_V1_HelloReply.self)
        try routes.add(.get, "/v1/greetings/{name}/stream", method: Loop_Demo_V1_GreetingsMethods.streamHellos, kind: .serverStreaming,
                       request: Loop_Demo_V1_StreamHellosRequest.self, response: Loop_Demo_V1_HelloReply.self)
        return routes
    }
}
