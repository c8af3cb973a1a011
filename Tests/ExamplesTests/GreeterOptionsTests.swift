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

    @Test func tls() throws {
        let serve = try GreeterServeOptions.parse(["--port", "0", "--tls-cert", "/dev/null", "--tls-key", "/dev/null"])
        #expect(serve.tls.enabled && serve.tls.certificateFile == "/dev/null" && serve.tls.keyFile == "/dev/null")
        #expect(try !GreeterServeOptions.parse([]).tls.enabled)
        let greet = try GreeterGreetOptions.parse(["--host", "localhost", "--tls-ca", "/dev/null"])
        #expect(greet.tls.enabled && greet.tls.caFile == "/dev/null" && greet.host == "localhost")
        #expect(try GreeterGreetOptions.parse(["--tls"]).tls.enabled)
        #expect(try !GreeterGreetOptions.parse([]).tls.enabled)
        #expect(failure(GreeterServeOptions.self, ["--tls-cert", "/dev/null"])?.message.contains("--tls-cert needs --tls-key") == true)
        #expect(failure(GreeterServeOptions.self, ["--tls-key", "/dev/null"])?.message.contains("--tls-key needs --tls-cert") == true)
        #expect(failure(GreeterGreetOptions.self, ["--tls-ca", "/no/such/ca.pem"])?.message.contains("--tls-ca /no/such/ca.pem") == true)
        let serveHelp = try #require(failure(GreeterServeOptions.self, ["--help"]))
        #expect(serveHelp.status == 0 && serveHelp.message.contains("--tls-cert <file>") && serveHelp.message.contains("--tls-key <file>"))
        let greetHelp = try #require(failure(GreeterGreetOptions.self, ["--help"]))
        for flag in ["--tls", "--tls-ca <file>", "--tls-server-name <name>"] {
            #expect(greetHelp.message.contains(flag), "help lacks \(flag):\n\(greetHelp.message)")
        }
    }
}
