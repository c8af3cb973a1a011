import Testing
import Loop
@testable import LoopHTTP2

/// Keepalive PINGs, the peer's PING policy and the maximum connection age (HTTP2Keepalive),
/// as gRFC A8 ("Client-side Keepalive") and A9 ("Server-side Connection Management") define
/// them and grpc-go configures them: first the I/O-free type alone on a fake clock, then an
/// HTTP2Connection acting on it (RFC 9113 §6.7 PING, §6.8 GOAWAY).
@Suite struct HTTP2KeepaliveTests {
    private static let second: UInt64 = 1_000_000_000
    private static let millisecond: UInt64 = 1_000_000

    private static func keepalive(role: HTTP2Configuration.Role = .server, jitter: Double = 0,
                                  _ configure: (inout HTTP2Configuration) -> Void) -> HTTP2Keepalive {
        var configuration = HTTP2Configuration(role: role)
        configure(&configuration)
        var keepalive = HTTP2Keepalive(configuration: configuration, ageJitter: jitter)
        keepalive.start(now: 0)
        keepalive.received(now: 0)
        keepalive.handshakeCompleted()
        return keepalive
    }

    // MARK: Configuration

    @Test func everythingIsOffByDefaultAndTheGRPCPresetsAreGrpcGos() {
        for role in [HTTP2Configuration.Role.server, .client] {
            let configuration = HTTP2Configuration(role: role)
            #expect(configuration.keepalive == nil && configuration.pingPolicy == nil)
            #expect(configuration.maxConnectionAge == nil && configuration.maxConnectionAgeGrace == nil)
            #expect(HTTP2Keepalive(configuration: configuration, ageJitter: 0).isEmpty)
        }
        // grpc-go: EnforcementPolicy MinTime 5 min, PermitWithoutStream false, maxPingStrikes 2;
        // ServerParameters Time 2 h, Timeout 20 s (and the server pings with or without calls).
        #expect(HTTP2Configuration.PingPolicy.grpc == .init(minInterval: .seconds(300), permitWithoutCalls: false, maxStrikes: 2))
        #expect(HTTP2Configuration.Keepalive.grpcServer == .init(interval: .seconds(7200), timeout: .seconds(20), permitWithoutCalls: true))
        #expect(HTTP2Configuration.Keepalive(interval: .seconds(10)).timeout == .seconds(20))
    }

    // MARK: Keepalive (gRFC A8)

    @Test func grpcA8KeepaliveStartsOnceTheHandshakeIsDone() {
        var configuration = HTTP2Configuration(role: .server)
        configuration.keepalive = .init(interval: .seconds(10), permitWithoutCalls: true)
        var keepalive = HTTP2Keepalive(configuration: configuration, ageJitter: 0)
        keepalive.start(now: 0)
        // The handshake timeout, not keepalive, watches a peer that has not sent its SETTINGS.
        #expect(keepalive.nextDeadline(openStreams: 0) == nil)
        var action = keepalive.due(now: 60 * Self.second, openStreams: 0)
        #expect(action == nil)
        keepalive.received(now: 61 * Self.second)
        keepalive.handshakeCompleted()
        #expect(keepalive.nextDeadline(openStreams: 0) == 71 * Self.second)
        action = keepalive.due(now: 71 * Self.second, openStreams: 0)
        #expect(action == .ping)
    }

    @Test func grpcA8APingGoesOutAfterTheIntervalWithoutReads() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(10), timeout: .seconds(2)) }
        #expect(keepalive.nextDeadline(openStreams: 1) == 10 * Self.second)
        var action = keepalive.due(now: 10 * Self.second - 1, openStreams: 1)
        #expect(action == nil)
        action = keepalive.due(now: 10 * Self.second, openStreams: 1)
        #expect(action == .ping)
        // One PING at a time: now the timeout runs.
        action = keepalive.due(now: 10 * Self.second, openStreams: 1)
        #expect(action == nil)
        #expect(keepalive.nextDeadline(openStreams: 1) == 12 * Self.second)
    }

    @Test func grpcA8TheIntervalCountsFromTheLastRead() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(10)) }
        keepalive.received(now: 7 * Self.second)
        var action = keepalive.due(now: 10 * Self.second, openStreams: 1)
        #expect(action == nil)
        #expect(keepalive.nextDeadline(openStreams: 1) == 17 * Self.second)
        action = keepalive.due(now: 17 * Self.second, openStreams: 1)
        #expect(action == .ping)
    }

    @Test func grpcA8AnythingReadAfterThePingShowsThePeerAliveAndTheNextPingWaitsAnInterval() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(10), timeout: .seconds(2)) }
        var action = keepalive.due(now: 10 * Self.second, openStreams: 1)
        #expect(action == .ping)
        keepalive.received(now: 11 * Self.second)   // the ACK, or any frame
        #expect(keepalive.pingSentAt == nil)
        action = keepalive.due(now: 12 * Self.second, openStreams: 1)
        #expect(action == nil)
        #expect(keepalive.nextDeadline(openStreams: 1) == 21 * Self.second)
        action = keepalive.due(now: 21 * Self.second, openStreams: 1)
        #expect(action == .ping)
    }

    @Test func grpcA8NothingReadWithinTheTimeoutMeansThePeerIsGone() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(10), timeout: .seconds(20)) }
        var action = keepalive.due(now: 10 * Self.second, openStreams: 1)
        #expect(action == .ping)
        action = keepalive.due(now: 30 * Self.second - 1, openStreams: 1)
        #expect(action == nil)
        action = keepalive.due(now: 30 * Self.second, openStreams: 1)
        #expect(action == .unresponsive(reason: "keepalive ping not acknowledged within 20.0 seconds"))
    }

    @Test func grpcA8WithoutPermitNoPingWhileNoStreamIsOpenAndAtOnceWhenOneOpens() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(10), permitWithoutCalls: false) }
        #expect(keepalive.nextDeadline(openStreams: 0) == nil)
        var action = keepalive.due(now: 60 * Self.second, openStreams: 0)
        #expect(action == nil)
        // A stream after a quiet spell longer than the interval: a PING at once (A8), so a dead
        // connection is found within the timeout.
        action = keepalive.due(now: 60 * Self.second, openStreams: 1)
        #expect(action == .ping)
    }

    @Test func grpcA8PermitWithoutCallsPingsAnIdleConnection() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(10), permitWithoutCalls: true) }
        #expect(keepalive.nextDeadline(openStreams: 0) == 10 * Self.second)
        let action = keepalive.due(now: 10 * Self.second, openStreams: 0)
        #expect(action == .ping)
    }

    @Test func grpcA8AnUnansweredPingStillTimesOutWhenTheStreamsClose() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(10), timeout: .seconds(5)) }
        var action = keepalive.due(now: 10 * Self.second, openStreams: 1)
        #expect(action == .ping)
        #expect(keepalive.nextDeadline(openStreams: 0) == 15 * Self.second)
        action = keepalive.due(now: 15 * Self.second, openStreams: 0)
        #expect(action == .unresponsive(reason: "keepalive ping not acknowledged within 5.0 seconds"))
    }

    // MARK: The peer's PINGs (gRFC A8 "Server Enforcement", grpc-go's handlePing)

    @Test func grpcA8PingsSoonerThanTheMinimumAreStrikesAndTheThirdEndsTheConnection() {
        var keepalive = Self.keepalive { $0.pingPolicy = .grpc }
        var tooMany = keepalive.pingReceived(now: 0, openStreams: 1)
        #expect(!tooMany)               // the first is never early
        tooMany = keepalive.pingReceived(now: 60 * Self.second, openStreams: 1)
        #expect(!tooMany) // strike 1
        tooMany = keepalive.pingReceived(now: 120 * Self.second, openStreams: 1)
        #expect(!tooMany) // strike 2
        #expect(keepalive.strikes == 2)
        tooMany = keepalive.pingReceived(now: 180 * Self.second, openStreams: 1)
        #expect(tooMany)  // strike 3 > maxPingStrikes
    }

    @Test func grpcA8PingsAtTheMinimumIntervalAreNeverStruck() {
        var keepalive = Self.keepalive { $0.pingPolicy = .grpc }
        for minute in stride(from: UInt64(0), through: 100, by: 5) {
            let tooMany = keepalive.pingReceived(now: minute * 60 * Self.second, openStreams: 1)
            #expect(!tooMany)
        }
        #expect(keepalive.strikes == 0)
    }

    @Test func grpcA8EveryPingIsComparedWithThePreviousOneAsGrpcGoDoes() {
        // Pings every 4 minutes under a 5-minute policy are all early, even though each is
        // more than 5 minutes after the last one that was not struck.
        var keepalive = Self.keepalive { $0.pingPolicy = .grpc }
        var tooMany = keepalive.pingReceived(now: 0, openStreams: 1)
        #expect(!tooMany)
        tooMany = keepalive.pingReceived(now: 240 * Self.second, openStreams: 1)
        #expect(!tooMany)
        tooMany = keepalive.pingReceived(now: 480 * Self.second, openStreams: 1)
        #expect(!tooMany)
        tooMany = keepalive.pingReceived(now: 720 * Self.second, openStreams: 1)
        #expect(tooMany)
    }

    @Test func grpcA8WithoutCallsPingsMustBeTwoHoursApartUnlessPermitted() {
        var strict = Self.keepalive { $0.pingPolicy = .init(minInterval: .seconds(60), permitWithoutCalls: false, maxStrikes: 0) }
        var tooMany = strict.pingReceived(now: 0, openStreams: 0)
        #expect(!tooMany)
        tooMany = strict.pingReceived(now: 3600 * Self.second, openStreams: 0)
        #expect(tooMany)   // an hour: early without calls
        var twoHours = Self.keepalive { $0.pingPolicy = .init(minInterval: .seconds(60), permitWithoutCalls: false, maxStrikes: 0) }
        tooMany = twoHours.pingReceived(now: 0, openStreams: 0)
        #expect(!tooMany)
        tooMany = twoHours.pingReceived(now: 7200 * Self.second, openStreams: 0)
        #expect(!tooMany)
        var permitted = Self.keepalive { $0.pingPolicy = .init(minInterval: .seconds(60), permitWithoutCalls: true, maxStrikes: 0) }
        tooMany = permitted.pingReceived(now: 0, openStreams: 0)
        #expect(!tooMany)
        tooMany = permitted.pingReceived(now: 60 * Self.second, openStreams: 0)
        #expect(!tooMany)
    }

    @Test func grpcA8SendingHeadersOrDataForgivesTheStrikes() {
        var keepalive = Self.keepalive { $0.pingPolicy = .grpc }
        _ = keepalive.pingReceived(now: 0, openStreams: 1)
        _ = keepalive.pingReceived(now: Self.second, openStreams: 1)
        _ = keepalive.pingReceived(now: 2 * Self.second, openStreams: 1)
        #expect(keepalive.strikes == 2)
        keepalive.sentHeadersOrData()
        // The next PING is not checked (a BDP PING follows the data it measures) and clears them.
        var tooMany = keepalive.pingReceived(now: 2 * Self.second + 1, openStreams: 1)
        #expect(!tooMany)
        #expect(keepalive.strikes == 0)
        tooMany = keepalive.pingReceived(now: 3 * Self.second, openStreams: 1)
        #expect(!tooMany)
        tooMany = keepalive.pingReceived(now: 4 * Self.second, openStreams: 1)
        #expect(!tooMany)
        tooMany = keepalive.pingReceived(now: 5 * Self.second, openStreams: 1)
        #expect(tooMany)
    }

    @Test func grpcA8TheStrikesAreConfigurable() {
        var keepalive = Self.keepalive { $0.pingPolicy = .init(minInterval: .seconds(60), maxStrikes: 0) }
        var tooMany = keepalive.pingReceived(now: 0, openStreams: 1)
        #expect(!tooMany)
        tooMany = keepalive.pingReceived(now: Self.second, openStreams: 1)
        #expect(tooMany)   // two PINGs are enough
    }

    @Test func withoutAPolicyNoPingIsStruck() {
        var keepalive = Self.keepalive { $0.keepalive = .init(interval: .seconds(1)) }
        for tick in 0..<100 {
            let tooMany = keepalive.pingReceived(now: UInt64(tick), openStreams: 0)
            #expect(!tooMany)
        }
    }

    // MARK: Maximum age (gRFC A9)

    @Test func grpcA9TheAgeBeginsTheShutdownAndTheGraceEndsIt() {
        var keepalive = Self.keepalive { $0.maxConnectionAge = .seconds(100); $0.maxConnectionAgeGrace = .seconds(10) }
        #expect(!keepalive.isEmpty)
        #expect(keepalive.nextDeadline(openStreams: 0) == 100 * Self.second)
        var action = keepalive.due(now: 100 * Self.second - 1, openStreams: 1)
        #expect(action == nil)
        action = keepalive.due(now: 100 * Self.second, openStreams: 1)
        #expect(action == .maxAge)
        action = keepalive.due(now: 100 * Self.second, openStreams: 1)
        #expect(action == nil)
        // The grace counts from the first GOAWAY, without jitter.
        #expect(keepalive.nextDeadline(openStreams: 1) == 110 * Self.second)
        action = keepalive.due(now: 110 * Self.second, openStreams: 1)
        #expect(action == .graceOver(reason: "max connection age grace of 10.0 seconds passed"))
        #expect(keepalive.nextDeadline(openStreams: 1) == nil)
    }

    @Test func grpcA9TheAgeIsJitteredByTenPercentAtMost() {
        let late = Self.keepalive(jitter: 0.1) { $0.maxConnectionAge = .seconds(100) }
        #expect(late.nextDeadline(openStreams: 0) == 110 * Self.second)
        let early = Self.keepalive(jitter: -0.1) { $0.maxConnectionAge = .seconds(100) }
        #expect(early.nextDeadline(openStreams: 0) == 90 * Self.second)
        let clamped = Self.keepalive(jitter: 0.5) { $0.maxConnectionAge = .seconds(100) }
        #expect(clamped.nextDeadline(openStreams: 0) == 110 * Self.second)
        for _ in 0..<1000 {
            let jitter = HTTP2Keepalive.randomAgeJitter()
            #expect(jitter >= -0.1 && jitter <= 0.1)
        }
    }

    @Test func grpcA9WithoutAGraceTheStreamsTakeAsLongAsTheyNeed() {
        var keepalive = Self.keepalive { $0.maxConnectionAge = .seconds(100) }
        var action = keepalive.due(now: 100 * Self.second, openStreams: 1)
        #expect(action == .maxAge)
        #expect(keepalive.nextDeadline(openStreams: 1) == nil)
        action = keepalive.due(now: .max, openStreams: 1)
        #expect(action == nil)
    }

    @Test func grpcA9TheAgeIsAServersRule() {
        let keepalive = Self.keepalive(role: .client) { $0.maxConnectionAge = .seconds(100); $0.maxConnectionAgeGrace = .seconds(1) }
        #expect(keepalive.isEmpty)
        #expect(keepalive.nextDeadline(openStreams: 1) == nil)
    }

    @Test func limitsOfYearsNeverWrapAround() {
        var keepalive = Self.keepalive { $0.maxConnectionAge = .seconds(Int64.max); $0.keepalive = .init(interval: .seconds(Int64.max)) }
        keepalive.received(now: 5 * Self.second)
        #expect(keepalive.nextDeadline(openStreams: 1) == .max)
        let action = keepalive.due(now: 1 << 62, openStreams: 1)
        #expect(action == nil)
    }

    @Test func theIdleTimeoutStillCountsBesideKeepalive() {
        // Keepalive PINGs are no streams: an idle connection is still closed by idleTimeout.
        var configuration = HTTP2Configuration(role: .server)
        configuration.keepalive = .grpcServer
        configuration.pingPolicy = .grpc
        configuration.idleTimeout = .seconds(300)
        var timeouts = HTTP2Timeouts(configuration: configuration)
        timeouts.observe(now: 0, idle: true, headerBlockPending: false, outputWaiting: false, outputMoved: false)
        #expect(timeouts.expired(now: 300 * Self.second) == .idle(.seconds(300)))
    }

    // MARK: On a connection (RFC 9113 §6.7, §6.8)

    /// GOAWAY's debug data from the frames, with its code and last stream id.
    private static func goAways(_ frames: [HTTP2Frame]) -> [(last: UInt32, code: HTTP2ErrorCode, debug: String)] {
        frames.compactMap { frame in
            if case .goAway(let last, let code, let debug) = frame.payload { return (last, code, String(decoding: debug.readableBytesView, as: UTF8.self)) }
            return nil
        }
    }

    @Test func rfc9113Section6_7TheKeepalivePingGoesOutAndItsAckIsNoEvent() {
        var server = PeerHarness.server { $0.keepalive = .init(interval: .seconds(10), permitWithoutCalls: true) }
        server.handshake()
        #expect(server.connection.nextKeepaliveDeadline == 10 * Self.second)
        var acted = server.connection.checkKeepalive(now: 9 * Self.second)
        #expect(!acted)
        acted = server.connection.checkKeepalive(now: 10 * Self.second)
        #expect(acted)
        #expect(server.sent() == [.ping(HTTP2Keepalive.pingData, ack: false)])
        server.now = 10 * Self.second + Self.millisecond
        server.receive(pingFrame(HTTP2Keepalive.pingData, ack: true))
        #expect(server.events().isEmpty)
        // An application's own PING still reports its ACK.
        server.connection.ping(42)
        server.receive(pingFrame(42, ack: true))
        #expect(server.events() == [.pingAck(42)])
        #expect(server.connection.nextKeepaliveDeadline == 20 * Self.second + Self.millisecond)
    }

    @Test func rfc9113Section6_7APeerThatAnswersNothingIsClosedWithoutGoAway() {
        var client = PeerHarness.client { $0.keepalive = .init(interval: .seconds(10), timeout: .seconds(1)) }
        client.handshake()
        let id = try? client.connection.sendHeaders(requestHead(), endStream: false)
        #expect(id == 1)
        _ = client.frames()
        var acted = client.connection.checkKeepalive(now: 10 * Self.second)
        #expect(acted)
        #expect(client.sent() == [.ping(HTTP2Keepalive.pingData, ack: false)])
        acted = client.connection.checkKeepalive(now: 11 * Self.second)
        #expect(acted)
        #expect(client.sent() == [])   // no GOAWAY: a peer that answers nothing reads nothing
        #expect(client.events() == [.reset(1, .cancel), .closed(1), .connectionError(.cancel)])
        #expect(client.connection.state == .closed)
        #expect(client.connection.keepaliveFailure == "keepalive ping not acknowledged within 1.0 seconds")
        #expect(client.connection.nextKeepaliveDeadline == nil)
    }

    @Test func rfc9113Section6_8TooManyPingsIsGoAwayEnhanceYourCalmTooManyPingsExactly() {
        var server = PeerHarness.server { $0.pingPolicy = .grpc }
        server.handshake()
        server.sendRequest(streamID: 1)
        _ = server.events()
        for second in 0..<3 as Range<UInt64> {
            server.now = second * Self.second
            server.receive(pingFrame(second))
        }
        #expect(server.sent() == [.ping(0, ack: true), .ping(1, ack: true), .ping(2, ack: true)])
        server.now = 3 * Self.second
        server.receive(pingFrame(3))
        // The PING is answered, then GOAWAY(last 1, ENHANCE_YOUR_CALM, "too_many_pings"):
        // grpc-go's words, byte for byte, which gRPC clients look for.
        let output = takeOutput(&server.connection)
        let expected = joined([pingFrame(3, ack: true), goAwayFrame(lastStreamID: 1, code: .enhanceYourCalm, debugData: "too_many_pings")])
        #expect(Array(output.readableBytesView) == Array(expected.readableBytesView))
        #expect(Array(expected.readableBytesView.suffix(31)) == [0, 0, 22, 7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 11]
                    + Array("too_many_pings".utf8))
        #expect(server.events() == [.reset(1, .enhanceYourCalm), .closed(1), .connectionError(.enhanceYourCalm)])
    }

    @Test func grpcA8SendingHeadersOrDataOnTheConnectionForgivesTheStrikes() throws {
        var server = PeerHarness.server { $0.pingPolicy = .grpc }
        server.handshake()
        server.sendRequest(streamID: 1)
        for second in 0..<3 as Range<UInt64> {
            server.now = second * Self.second
            server.receive(pingFrame(second))
        }
        #expect(server.connection.keepalive.strikes == 2)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        server.receive(pingFrame(10))
        #expect(server.connection.keepalive.strikes == 0)
        server.receive(pingFrame(11))
        server.receive(pingFrame(12))
        #expect(server.connection.state == .active)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: [1, 2, 3]), endStream: false)
        server.receive(pingFrame(13))
        server.receive(pingFrame(14))
        server.receive(pingFrame(15))
        #expect(server.connection.state == .active && server.connection.keepalive.strikes == 2)
        server.receive(pingFrame(16))
        #expect(server.connection.state == .closed)
        #expect(Self.goAways(server.frames()).last.map { "\($0.code) \($0.debug)" } == "ENHANCE_YOUR_CALM too_many_pings")
    }

    @Test func theGlitchBudgetStillChargesPingsThePolicyAllows() {
        // A policy that allows any rate does not lift the glitch budget: a flood is still cut.
        var server = PeerHarness.server {
            $0.pingPolicy = .init(minInterval: .zero, permitWithoutCalls: true, maxStrikes: .max)
            $0.glitchBudget = .init(burst: 10, perSecond: 0)
        }
        server.handshake()
        for opaque in 0..<11 as Range<UInt64> { server.receive(pingFrame(opaque)) }
        #expect(server.connection.state == .closed)
        let goAway = Self.goAways(server.frames()).last
        #expect(goAway?.code == .enhanceYourCalm)
        #expect(goAway?.debug.hasPrefix("glitch budget of 10") == true, "\(goAway?.debug ?? "")")
    }

    @Test func rfc9113Section6_8TheMaximumAgeShutsDownGracefullyAndTheGraceClosesTheRest() {
        var server = PeerHarness.server { $0.maxConnectionAge = .seconds(100); $0.maxConnectionAgeGrace = .seconds(10) }
        server.connection.keepalive = HTTP2Keepalive(configuration: server.connection.configuration, ageJitter: 0)
        server.connection.keepalive.start(now: 0)
        server.handshake()
        server.sendRequest(streamID: 1)
        _ = server.events()
        #expect(server.connection.nextKeepaliveDeadline == 100 * Self.second)
        var acted = server.connection.checkKeepalive(now: 100 * Self.second)
        #expect(acted)
        let first = server.frames()
        #expect(first.map(FrameSummary.init) == [.goAway(last: 0x7FFF_FFFF, .noError), .ping(HTTP2Shutdown.pingData, ack: false)])
        #expect(Self.goAways(first).first?.debug == "max_age")
        #expect(server.connection.state == .draining)
        server.receive(pingFrame(HTTP2Shutdown.pingData, ack: true))
        #expect(server.sent() == [.goAway(last: 1, .noError)])
        // Stream 1 is still open when the grace ends.
        #expect(server.connection.nextKeepaliveDeadline == 110 * Self.second)
        acted = server.connection.checkKeepalive(now: 110 * Self.second)
        #expect(acted)
        let last = Self.goAways(server.frames())
        #expect(last.map(\.code) == [.noError] && last.first?.debug == "max connection age grace of 10.0 seconds passed")
        #expect(server.events() == [.reset(1, .noError), .closed(1), .connectionError(.noError)])
    }

    @Test func rfc9113Section6_8AConnectionDrainedBeforeTheGraceClosesAtOnce() {
        var server = PeerHarness.server { $0.maxConnectionAge = .seconds(100); $0.maxConnectionAgeGrace = .seconds(10) }
        server.connection.keepalive = HTTP2Keepalive(configuration: server.connection.configuration, ageJitter: 0)
        server.connection.keepalive.start(now: 0)
        server.handshake()
        server.connection.checkKeepalive(now: 100 * Self.second)
        _ = server.frames()
        server.receive(pingFrame(HTTP2Shutdown.pingData, ack: true))
        #expect(server.sent() == [.goAway(last: 0, .noError)])
        #expect(server.events() == [.drained])
        #expect(server.connection.nextKeepaliveDeadline == nil)
    }
}
