import ArgumentParser
import ExampleSupport
import Testing

@Suite struct GreeterOptionsTests {
    @Test func defaults() throws {
        let serve = try GreeterServeOptions.parse([])
        #expect(serve.host == "127.0.0.1" && serve.port == 50051)
        let greet = try GreeterGreetOptions.parse(["--name", "interop test"])
        #expect(greet.host == "127.0.0.1" && greet.port == 50051 && greet.name == "interop test")
    }

    @Test func rejects() throws {
        #expect(failure(GreeterServeOptions.self, ["--port", "99999"])?.status == usageStatus)
        #expect(failure(GreeterServeOptions.self, ["--name", "x"])?.message.contains("Unknown option '--name'") == true)
        #expect(failure(GreeterGreetOptions.self, ["--port", "0"])?.message.contains("1...65535") == true)
        #expect(failure(GreeterGreetOptions.self, ["--port", "fifty"])?.status == usageStatus)
        let help = try #require(failure(GreeterGreetOptions.self, ["--help"]))
        #expect(help.status == 0 && help.message.contains("--name") && help.message.contains("The name to greet"))
    }
}
