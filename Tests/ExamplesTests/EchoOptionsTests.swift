import ArgumentParser
import ExampleSupport
import Testing

@Suite struct EchoOptionsTests {
    @Test func serverDefaultsAndBothSpellings() throws {
        let defaults = try EchoServerOptions.parse([])
        #expect(defaults.host == "127.0.0.1" && defaults.port == 9999 && defaults.threads == nil)
        let given = try EchoServerOptions.parse(["--host", "0.0.0.0", "--port=0", "--threads", "1"])
        #expect(given.host == "0.0.0.0" && given.port == 0 && given.threads == 1)
    }

    @Test(arguments: [
        (["--port", "abc"], "--port"),
        (["--port", "70000"], "0...65535"),
        (["--port=-1"], "0...65535"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--threads", "two"], "--threads"),
        (["--host", ""], "--host must not be empty"),
        (["--bogus"], "Unknown option '--bogus'"),
        (["stray"], "Unexpected argument 'stray'"),
    ])
    func serverRejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(EchoServerOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }

    @Test func clientDefaultsAndChecks() throws {
        let defaults = try EchoClientOptions.parse([])
        #expect(defaults.host == "127.0.0.1" && defaults.port == 9999 && defaults.message == "Hello, Loop!")
        #expect(try EchoClientOptions.parse(["--message", "hi", "--port", "1"]).message == "hi")
        #expect(failure(EchoClientOptions.self, ["--port", "0"])?.message.contains("1...65535") == true)
        #expect(failure(EchoClientOptions.self, ["--message", ""])?.message.contains("--message must not be empty") == true)
        #expect(failure(EchoClientOptions.self, ["--mesage", "x"])?.status == usageStatus)
    }

    @Test func helpDescribesEveryOptionAndExitsZero() throws {
        let help = try #require(failure(EchoServerOptions.self, ["--help"]))
        #expect(help.status == 0)
        for text in ["--host", "--port", "--threads", "The port to listen on", "default: 9999"] {
            #expect(help.message.contains(text), "help lacks \(text):\n\(help.message)")
        }
        let clientHelp = try #require(failure(EchoClientOptions.self, ["-h"]))
        #expect(clientHelp.status == 0 && clientHelp.message.contains("--message"))
    }
}
