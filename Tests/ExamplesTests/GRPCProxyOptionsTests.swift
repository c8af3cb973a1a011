import ArgumentParser
import ExampleSupport
import Testing

@Suite struct GRPCProxyOptionsTests {
    @Test func flagsOfTheTestsAndBenchmarks() throws {
        let minimal = try GRPCProxyOptions.parse(["--upstream", "127.0.0.1:50051"])
        #expect(minimal.listenAddress == ("127.0.0.1", 8080) && !minimal.healthCheck && minimal.threads == nil)
        #expect(minimal.upstreamAddresses.map { "\($0.host) \($0.port)" } == ["127.0.0.1 50051"])
        let given = try GRPCProxyOptions.parse([
            "--listen", "0.0.0.0:0", "--upstream", "127.0.0.1:50051", "--upstream", "[::1]:50052", "--upstream", "backend:50053",
            "--health-check", "--health-check-interval", "0.5", "--threads", "2",
        ])
        #expect(given.listenAddress == ("0.0.0.0", 0) && given.healthCheck && given.healthCheckInterval == 0.5 && given.threads == 2)
        #expect(given.upstreamAddresses.map { "\($0.host) \($0.port)" } == ["127.0.0.1 50051", "::1 50052", "backend 50053"])
    }

    @Test(arguments: [
        ([], "at least one --upstream host:port is needed"),
        (["--upstream", "127.0.0.1"], "--upstream must be host:port"),
        (["--upstream", ":50051"], "--upstream must be host:port"),
        (["--upstream", "127.0.0.1:0"], "--upstream's port must be in 1...65535"),
        (["--upstream", "127.0.0.1:x"], "--upstream must be host:port"),
        (["--upstream", "127.0.0.1:1", "--listen", "8080"], "--listen must be host:port"),
        (["--upstream", "127.0.0.1:1", "--listen", "127.0.0.1:70000"], "--listen's port must be in 0...65535"),
        (["--upstream", "127.0.0.1:1", "--threads", "0"], "--threads must be at least 1"),
        (["--upstream", "127.0.0.1:1", "--health-check-interval", "0"], "--health-check-interval must be at least 0.01"),
        (["--upstream", "127.0.0.1:1", "--health-check=yes"], "--health-check"),
        (["--upstream", "127.0.0.1:1", "--lisen", "x"], "Unknown option '--lisen'"),
    ])
    func rejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(GRPCProxyOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }

    @Test func help() throws {
        let help = try #require(failure(GRPCProxyOptions.self, ["--help"]))
        #expect(help.status == 0)
        for flag in ["--listen", "--upstream", "--health-check", "--health-check-interval", "--threads"] {
            #expect(help.message.contains(flag), "help lacks \(flag):\n\(help.message)")
        }
    }
}
