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
