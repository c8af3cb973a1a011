import ArgumentParser
import ExampleSupport
import Testing

@Suite struct HTTP2OptionsTests {
    @Test func serverFlagsOfTheTestsBenchmarksAndMakefile() throws {
        let defaults = try HTTP2ServerOptions.parse([])
        #expect(defaults.host == "127.0.0.1" && defaults.port == 8080 && defaults.root == ".")
        #expect(defaults.threads == nil && defaults.maxStreams == nil && !defaults.frameLog)
        let given = try HTTP2ServerOptions.parse([
            "--host", "127.0.0.1", "--port", "0", "--threads", "2", "--max-streams", "1000", "--frame-log", "--root", "/",
        ])
        #expect(given.port == 0 && given.threads == 2 && given.maxStreams == 1000 && given.frameLog && given.root == "/")
    }

    @Test(arguments: [
        (["--port", "8o8o"], "--port"),
        (["--port", "65536"], "0...65535"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--max-streams", "-1"], "--max-streams"),
        (["--max-streams", "5000000000"], "--max-streams"),
        (["--root", "/no/such/directory"], "is not a directory"),
        (["--frame-log=yes"], "--frame-log"),
        (["--max-stream", "10"], "Unknown option '--max-stream'"),
    ])
    func serverRejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(HTTP2ServerOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }

    @Test func clientPathsAndMethod() throws {
        let defaults = try HTTP2ClientOptions.parse([])
        #expect(defaults.paths == ["/hello"] && defaults.requestMethod == "GET" && !defaults.verbose)
        let post = try HTTP2ClientOptions.parse(["--data", "x", "/echo"])
        #expect(post.requestMethod == "POST" && post.paths == ["/echo"])
        let many = try HTTP2ClientOptions.parse(["--host", "127.0.0.1", "/hello", "--port", "8081", "/echo-size/1000", "--verbose"])
        #expect(many.paths == ["/hello", "/echo-size/1000"] && many.port == 8081 && many.verbose)
        #expect(try HTTP2ClientOptions.parse(["--method", "DELETE", "/x"]).requestMethod == "DELETE")
    }

    @Test(arguments: [
        (["hello"], "a path must start with /"),
        (["--method", "GE T"], "--method must be a token"),
        (["--method", ""], "--method must be a token"),
        (["--port", "0"], "1...65535"),
        (["--port", "x"], "--port"),
        (["--verbose=1"], "--verbose"),
    ])
    func clientRejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(HTTP2ClientOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }

    @Test func tls() throws {
        #expect(try !HTTP2ServerOptions.parse([]).tls.enabled && !HTTP2ClientOptions.parse([]).tls.enabled)
        let server = try HTTP2ServerOptions.parse(["--port", "0", "--tls-cert", "/dev/null", "--tls-key", "/dev/null"])
        #expect(server.tls.enabled && server.tls.certificateFile == "/dev/null" && server.tls.keyFile == "/dev/null")
        let client = try HTTP2ClientOptions.parse(["--tls-ca", "/dev/null", "--tls-server-name", "a.example", "/hello"])
        #expect(client.tls.enabled && client.tls.caFile == "/dev/null" && client.tls.serverName == "a.example" && client.paths == ["/hello"])
        #expect(failure(HTTP2ServerOptions.self, ["--tls-key", "/dev/null"])?.message.contains("--tls-key needs --tls-cert") == true)
        #expect(failure(HTTP2ClientOptions.self, ["--tls-ca", "/no/such/ca.pem"])?.message.contains("--tls-ca /no/such/ca.pem") == true)
    }

    @Test func help() throws {
        let server = try #require(failure(HTTP2ServerOptions.self, ["--help"]))
        #expect(server.status == 0)
        for flag in ["--host", "--port", "--root", "--threads", "--max-streams", "--frame-log", "--tls-cert <file>", "--tls-key <file>"] {
            #expect(server.message.contains(flag), "help lacks \(flag):\n\(server.message)")
        }
        let client = try #require(failure(HTTP2ClientOptions.self, ["--help"]))
        #expect(client.status == 0)
        for flag in ["--method", "--data", "--verbose", "<path>", "--tls", "--tls-ca <file>", "--tls-server-name <name>"] {
            #expect(client.message.contains(flag), "help lacks \(flag):\n\(client.message)")
        }
    }
}
