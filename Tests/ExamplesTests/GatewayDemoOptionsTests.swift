import ArgumentParser
import ExampleSupport
import Testing

@Suite struct GatewayDemoOptionsTests {
    @Test func defaults() throws {
        let serve = try GatewayDemoOptions.parse([])
        #expect(serve.host == "127.0.0.1" && serve.port == 8080 && serve.backend == nil && serve.backendAddress == nil)
        let hello = try GatewayDemoHelloOptions.parse([])
        #expect(hello.host == "127.0.0.1" && hello.port == 8080 && hello.name == "Loop" && hello.count == nil)
        #expect(try GatewayDemoOptions.parse(["--threads", "1"]).threads == 1)
        #expect(failure(GatewayDemoOptions.self, ["--threads", "0"]) != nil)
    }

    @Test func backend() throws {
        let remote = try GatewayDemoOptions.parse(["--backend", "10.0.0.7:50051"])
        #expect(remote.backendAddress?.host == "10.0.0.7" && remote.backendAddress?.port == 50051)
        #expect(failure(GatewayDemoOptions.self, ["--backend", "nowhere"])?.message.contains("--backend must be HOST:PORT") == true)
        #expect(failure(GatewayDemoOptions.self, ["--backend", "host:0"])?.message.contains("1...65535") == true)
    }

    @Test func rejects() throws {
        #expect(failure(GatewayDemoOptions.self, ["--port", "99999"])?.status == usageStatus)
        #expect(failure(GatewayDemoHelloOptions.self, ["--count", "0"])?.message.contains("--count must be between 1 and 1000") == true)
        #expect(failure(GatewayDemoHelloOptions.self, ["--port", "0"])?.message.contains("1...65535") == true)
        let help = try #require(failure(GatewayDemoOptions.self, ["--help"]))
        #expect(help.status == 0 && help.message.contains("--backend <host:port>") && help.message.contains("REST/JSON"))
    }
}
