import Testing
import Loop
@testable import LoopHTTP2

/// A client HTTP2Connection and a server HTTP2Connection talking to each other through
/// ConnectionPair: whole exchanges, bodies byte for byte, windows respected on the wire.
@Suite struct HTTP2RoundTripTests {
    /// Replays the log and checks that no DATA frame in `direction` exceeds the stream or
    /// connection window its receiver granted (RFC 9113 §6.9, §6.9.2).
    private func expectWindowsRespected(_ pair: ConnectionPair, _ direction: ConnectionPair.Direction,
                                        sourceLocation: SourceLocation = #_sourceLocation) {
        var initial = 65_535
        var connection = 65_535
        var streams: [UInt32: Int] = [:]
        for (frameDirection, frame) in pair.log {
            if frameDirection == direction {
                guard case .data(_, _, let length) = frame.payload else { continue }
                let id = frame.streamID
                streams[id, default: initial] -= length
                connection -= length
                #expect(streams[id]! >= 0, "stream \(id) window exceeded", sourceLocation: sourceLocation)
                #expect(connection >= 0, "connection window exceeded", sourceLocation: sourceLocation)
            } else {
                switch frame.payload {
                case .settings(let parameters):
                    for parameter in parameters where parameter.identifier == HTTP2Setting.initialWindowSize {
                        let delta = Int(parameter.value) - initial
                        initial = Int(parameter.value)
                        for id in streams.keys { streams[id]! += delta }
                    }
                case .windowUpdate(let increment):
                    if frame.streamID == 0 { connection += Int(increment) } else { streams[frame.streamID, default: initial] += Int(increment) }
                default:
                    break
                }
            }
        }
    }

    @Test func handshakeMakesBothSidesReady() {
        var pair = ConnectionPair()
        pair.pump()
        #expect(pair.client.isReady)
        #expect(pair.server.isReady)
        let events = pair.takeEvents()
        #expect(events.client == [.ready])
        #expect(events.server == [.ready])
        // Each side: SETTINGS and the connection window at once, then the ACK of the peer's.
        let window = FrameSummary.windowUpdate(0, increment: (16 << 20) - 65_535)
        #expect(Array(pair.frames(.toServer).prefix(2)).last == window)
        #expect(Array(pair.frames(.toClient).prefix(2)).last == window)
        #expect(pair.frames(.toServer).last == .settingsAck)
        #expect(pair.frames(.toClient).last == .settingsAck)
    }

    @Test func requestAndResponseWithTrailers() throws {
        var pair = ConnectionPair()
        pair.pump()
        _ = pair.takeEvents()
        let id = try pair.client.sendHeaders(requestHead(path: "/hello"), endStream: true)
        pair.pump()
        #expect(pair.takeEvents().server == [.headers(id, fields(requestHead(path: "/hello")), endStream: true)])

        let body = Array("hello, world".utf8)
        try pair.server.sendHeaders(streamID: id, responseHead(extra: [("content-type", "text/plain")]), endStream: false)
        try pair.server.sendData(streamID: id, ByteBuffer(bytes: body), endStream: false)
        try pair.server.sendHeaders(streamID: id, [HPACKHeader("x-checksum", "42")], endStream: true)
        pair.pump()
        let events = pair.takeEvents()
        #expect(events.client == [
            .headers(id, fields(responseHead(extra: [("content-type", "text/plain")])), endStream: false),
            .data(id, body, endStream: false),
            .headers(id, ["x-checksum: 42"], endStream: true),
            .closed(id),
        ])
        #expect(events.server == [.closed(id)])
        #expect(pair.client.openStreamCount == 0)
        #expect(pair.server.openStreamCount == 0)
    }

    @Test func bodiesLargerThanEveryWindowArriveByteForByte() throws {
        let small: (inout HTTP2Configuration) -> Void = {
            $0.initialStreamWindowSize = 65_535
            $0.connectionWindowSize = 65_535
        }
        var pair = ConnectionPair(client: small, server: small)
        pair.pump()
        _ = pair.takeEvents()
        let upload = patternBytes(300_000, seed: 1)
        let download = patternBytes(500_000, seed: 2)

        let id = try pair.client.sendHeaders(requestHead(method: "POST", path: "/upload"), endStream: false)
        try pair.client.sendData(streamID: id, ByteBuffer(bytes: upload), endStream: true)
        pair.pump()
        #expect(pair.serverReceived[id] == upload)
        #expect(withoutData(pair.takeEvents().server) == [.headers(id, fields(requestHead(method: "POST", path: "/upload")), endStream: false)])

        try pair.server.sendHeaders(streamID: id, responseHead(), endStream: false)
        try pair.server.sendData(streamID: id, ByteBuffer(bytes: download), endStream: true)
        pair.pump()
        #expect(pair.clientReceived[id] == download)
        let events = pair.takeEvents()
        #expect(withoutData(events.client) == [.headers(id, fields(responseHead()), endStream: false), .closed(id)])
        #expect(events.client.last == .closed(id))
        #expect(events.server == [.closed(id)])
        // The last DATA event carried END_STREAM.
        #expect(events.client.dropLast().last.map { if case .data(_, _, true) = $0 { true } else { false } } == true)

        expectWindowsRespected(pair, .toServer)
        expectWindowsRespected(pair, .toClient)
        // Credit went back in both directions, or 800 KB could not have crossed 64 KiB windows.
        #expect(pair.frames(.toClient).contains { if case .windowUpdate(id, _) = $0 { true } else { false } })
        #expect(pair.frames(.toServer).contains { if case .windowUpdate(id, _) = $0 { true } else { false } })
    }

    @Test func designPrinciple5TransferStopsAtTheWindowUntilTheApplicationConsumes() throws {
        var pair = ConnectionPair(server: {
            $0.initialStreamWindowSize = 65_535
            $0.connectionWindowSize = 65_535
        })
        pair.serverConsumes = false
        pair.pump()
        let upload = patternBytes(200_000)
        let id = try pair.client.sendHeaders(requestHead(method: "POST"), endStream: false)
        try pair.client.sendData(streamID: id, ByteBuffer(bytes: upload), endStream: true)
        pair.pump()
        // Exactly one window, then nothing: the application has not taken anything.
        #expect(pair.serverReceived[id]?.count == 65_535)
        #expect(pair.client.bufferedBytes(streamID: id) == 200_000 - 65_535)
        pair.pump()
        #expect(pair.serverReceived[id]?.count == 65_535)

        var consumed = 0
        var rounds = 0
        while (pair.serverReceived[id]?.count ?? 0) < upload.count && rounds < 100 {
            rounds += 1
            let delivered = pair.serverReceived[id]!.count
            pair.server.consumed(streamID: id, bytes: delivered - consumed)
            consumed = delivered
            pair.pump()
        }
        #expect(pair.serverReceived[id] == upload)
        #expect(rounds == 3)  // 65,535 more per round
        expectWindowsRespected(pair, .toServer)
    }

    @Test func concurrentStreamsShareTheConnectionRoundRobin() throws {
        var pair = ConnectionPair(server: { $0.connectionWindowSize = 65_535 })
        pair.pump()
        _ = pair.takeEvents()
        pair.client.pauseOutput()
        var ids: [UInt32] = []
        for index in 0..<3 {
            let id = try pair.client.sendHeaders(requestHead(method: "POST", path: "/\(index)"), endStream: false)
            try pair.client.sendData(streamID: id, ByteBuffer(bytes: patternBytes(100_000, seed: index)), endStream: true)
            ids.append(id)
        }
        pair.client.resumeOutput()
        pair.pump()
        for (index, id) in ids.enumerated() { #expect(pair.serverReceived[id] == patternBytes(100_000, seed: index)) }

        // While two or more streams have data left, no stream sends twice in a row.
        var remaining = Dictionary(uniqueKeysWithValues: ids.map { ($0, 100_000) })
        var previous: UInt32?
        for (direction, frame) in pair.log where direction == .toServer {
            guard case .data(_, _, let length) = frame.payload else { continue }
            let contended = remaining.values.filter { $0 > 0 }.count >= 2
            if contended, let previous { #expect(previous != frame.streamID, "stream \(frame.streamID) sent twice in a row") }
            remaining[frame.streamID]! -= length
            previous = frame.streamID
        }
        expectWindowsRespected(pair, .toServer)
    }

    @Test func manyRequestsKeepTheHPACKContextsInStep() throws {
        var pair = ConnectionPair(client: { $0.headerTableSize = 256 }, server: { $0.headerTableSize = 0 })
        pair.pump()
        _ = pair.takeEvents()
        for index in 0..<200 {
            let request = requestHead(path: "/item/\(index % 7)", extra: [("x-request", "\(index % 13)"), ("user-agent", "loop-tests")])
            let id = try pair.client.sendHeaders(request, endStream: true)
            pair.pump()
            #expect(pair.takeEvents().server == [.headers(id, fields(request), endStream: true)])
            let response = responseHead(extra: [("x-response", "\(index % 11)"), ("server", "loop")])
            try pair.server.sendHeaders(streamID: id, response, endStream: true)
            pair.pump()
            #expect(pair.takeEvents().client == [.headers(id, fields(response), endStream: true), .closed(id)])
        }
        #expect(pair.client.state == .active)
        #expect(pair.server.state == .active)
    }

    @Test func clientCancelReachesTheServer() throws {
        var pair = ConnectionPair()
        pair.pump()
        _ = pair.takeEvents()
        let id = try pair.client.sendHeaders(requestHead(method: "POST"), endStream: false)
        pair.pump()
        pair.client.resetStream(id, code: .cancel)
        pair.pump()
        let events = pair.takeEvents()
        #expect(events.client == [.closed(id)])
        #expect(events.server == [.headers(id, fields(requestHead(method: "POST")), endStream: false), .reset(id, .cancel), .closed(id)])
        #expect(pair.server.state == .active)
    }

    @Test func designStreamEndRuleOverThePair() throws {
        // The server answers before the upload is done: the client ends its side with
        // RST_STREAM(NO_ERROR) once the response is complete and stops sending; the server,
        // waiting out its grace period (HTTP2ResetGrace), sends no reset of its own.
        var pair = ConnectionPair(server: { $0.initialStreamWindowSize = 65_535; $0.connectionWindowSize = 65_535 })
        pair.serverConsumes = false
        pair.pump()
        _ = pair.takeEvents()
        let id = try pair.client.sendHeaders(requestHead(method: "POST"), endStream: false)
        try pair.client.sendData(streamID: id, ByteBuffer(bytes: patternBytes(100_000)), endStream: true)
        pair.pump()
        try pair.server.sendHeaders(streamID: id, responseHead(status: "413"), endStream: true)
        pair.pump()
        let events = pair.takeEvents()
        #expect(events.client == [.headers(id, [":status: 413"], endStream: true), .closed(id)])
        #expect(withoutData(events.server) == [.headers(id, fields(requestHead(method: "POST")), endStream: false), .reset(id, .noError), .closed(id)])
        #expect(!pair.log.contains { $0.direction == .toClient && { if case .rstStream = $0 { true } else { false } }($0.frame.payload) })
        #expect(pair.client.bufferedBytes(streamID: id) == 0)  // the rest of the upload was dropped
        #expect(pair.client.openStreamCount == 0)
        #expect(pair.server.openStreamCount == 0)
    }

    @Test func rfc9113Section6_8GracefulShutdownOverThePair() throws {
        var pair = ConnectionPair()
        pair.pump()
        _ = pair.takeEvents()
        let id = try pair.client.sendHeaders(requestHead(), endStream: true)
        pair.pump()
        _ = pair.takeEvents()
        pair.server.beginGracefulShutdown()
        pair.pump()
        // Both GOAWAYs crossed (the client acknowledged the PING in between).
        let goAways = pair.frames(.toClient).filter { if case .goAway = $0 { true } else { false } }
        #expect(goAways == [.goAway(last: 0x7FFF_FFFF, .noError), .goAway(last: id, .noError)])
        var events = pair.takeEvents()
        #expect(events.client == [.goAway(last: 0x7FFF_FFFF, .noError), .goAway(last: id, .noError)])
        #expect(throws: HTTP2StreamError.goingAway) { try pair.client.sendHeaders(requestHead(), endStream: true) }

        // The stream in flight completes, then both sides are done.
        try pair.server.sendHeaders(streamID: id, responseHead(), endStream: true)
        pair.pump()
        events = pair.takeEvents()
        #expect(events.server == [.closed(id), .drained])
        #expect(events.client == [.headers(id, fields(responseHead()), endStream: true), .closed(id), .drained])
        #expect(pair.server.state == .closed)
        #expect(pair.client.state == .closed)
    }
}
