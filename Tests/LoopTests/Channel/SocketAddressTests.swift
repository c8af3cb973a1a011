import Glibc
import Testing
@testable import Loop

@Suite struct SocketAddressTests {
    @Test func parsesIPv4() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 8080)
        #expect(address.family == AF_INET)
        #expect(address.ipAddress == "127.0.0.1")
        #expect(address.port == 8080)
        #expect(address.description == "127.0.0.1:8080")
    }

    @Test func parsesIPv6() throws {
        let address = try SocketAddress(ipAddress: "::1", port: 443)
        #expect(address.family == AF_INET6)
        #expect(address.ipAddress == "::1")
        #expect(address.port == 443)
        #expect(address.description == "[::1]:443")
    }

    @Test func equalityComparesFamilyAddressAndPort() throws {
        #expect(try SocketAddress(ipAddress: "127.0.0.1", port: 1) == SocketAddress(ipAddress: "127.0.0.1", port: 1))
        #expect(try SocketAddress(ipAddress: "127.0.0.1", port: 1) != SocketAddress(ipAddress: "127.0.0.1", port: 2))
        #expect(try SocketAddress(ipAddress: "127.0.0.1", port: 1) != SocketAddress(ipAddress: "127.0.0.2", port: 1))
        #expect(try SocketAddress(ipAddress: "::1", port: 1) != SocketAddress(ipAddress: "127.0.0.1", port: 1))
    }

    @Test func rejectsInvalidInput() {
        #expect(throws: SocketAddressError.invalidAddress("127.0.0")) { try SocketAddress(ipAddress: "127.0.0", port: 1) }
        #expect(throws: SocketAddressError.invalidAddress("localhost")) { try SocketAddress(ipAddress: "localhost", port: 1) }
        #expect(throws: SocketAddressError.invalidPort(65536)) { try SocketAddress(ipAddress: "127.0.0.1", port: 65536) }
        #expect(throws: SocketAddressError.invalidPort(-1)) { try SocketAddress(ipAddress: "127.0.0.1", port: -1) }
        #expect(SocketAddressError.invalidPort(-1).description == "SocketAddressError.invalidPort: -1 is not in 0...65535")
    }

    @Test func resolveTakesNumericAddressesWithoutLookup() throws {
        #expect(try SocketAddress.resolve(host: "127.0.0.1", port: 80) == SocketAddress(ipAddress: "127.0.0.1", port: 80))
        #expect(throws: SocketAddressError.invalidPort(70000)) { try SocketAddress.resolve(host: "127.0.0.1", port: 70000) }
    }
}

@Suite struct UnixDomainSocketAddressTests {
    @Test func holdsThePath() throws {
        let address = try SocketAddress(unixDomainSocketPath: "/run/app/grpc.sock")
        #expect(address.family == AF_UNIX)
        #expect(address.unixDomainSocketPath == "/run/app/grpc.sock")
        #expect(address.description == "/run/app/grpc.sock")
        #expect(address.port == 0)
        #expect(address.ipAddress == "")
        #expect(address == (try SocketAddress(unixDomainSocketPath: "/run/app/grpc.sock")))
        #expect(address != (try SocketAddress(unixDomainSocketPath: "/run/app/other.sock")))
        #expect(address != (try SocketAddress(ipAddress: "127.0.0.1", port: 0)))
        #expect(try SocketAddress(ipAddress: "127.0.0.1", port: 1).unixDomainSocketPath == nil)
    }

    @Test func thePathMustFitSunPath() throws {
        #expect(SocketAddress.maximumUnixDomainSocketPathLength == 107)
        let longest = "/" + String(repeating: "a", count: 106)
        #expect(try SocketAddress(unixDomainSocketPath: longest).unixDomainSocketPath == longest)
        let tooLong = longest + "b"
        #expect(throws: SocketAddressError.unixDomainSocketPathTooLong(path: tooLong, maximum: 107)) {
            try SocketAddress(unixDomainSocketPath: tooLong)
        }
        #expect(throws: SocketAddressError.invalidUnixDomainSocketPath("")) { try SocketAddress(unixDomainSocketPath: "") }
        #expect(throws: SocketAddressError.invalidUnixDomainSocketPath("a\u{0}b")) { try SocketAddress(unixDomainSocketPath: "a\u{0}b") }
    }

    @Test func endpointsDescribeThemselvesAndTheirAuthority() {
        #expect(Endpoint.hostAndPort(host: "example.com", port: 50051).description == "example.com:50051")
        #expect(Endpoint.hostAndPort(host: "example.com", port: 50051).defaultAuthority == "example.com:50051")
        #expect(Endpoint.unixDomainSocket(path: "/run/app.sock").description == "unix:/run/app.sock")
        #expect(Endpoint.unixDomainSocket(path: "/run/app.sock").defaultAuthority == "localhost")
    }
}
